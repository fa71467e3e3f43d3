import { chooseWhere, type DeviceState } from "./where";

const READY: DeviceState = { state: "ready", backend: "wasm", threads: 2 };
const BROKEN: DeviceState = { state: "unavailable", reason: "no WebAssembly" };
const SMALL = { pixels: 1024 * 683, maxPixels: 4_194_304, hasModel: true, fast: true };

describe("chooseWhere", () => {
  test("Auto uses the device when it is ready, the photo fits and the style has a model file", () => {
    expect(chooseWhere("auto", READY, SMALL)).toEqual({ runOn: "device" });
  });

  test("Auto uses the server for a device not known to be fast, even a ready one", () => {
    expect(chooseWhere("auto", READY, { ...SMALL, fast: false })).toEqual({ runOn: "server" });
    expect(chooseWhere("auto", { state: "unknown" }, { ...SMALL, fast: false })).toEqual({ runOn: "server" });
    expect(chooseWhere("device", READY, { ...SMALL, fast: false })).toEqual({ runOn: "device" }); // the privacy choice stays
  });

  test("Auto quietly uses the server otherwise", () => {
    expect(chooseWhere("auto", BROKEN, SMALL)).toEqual({ runOn: "server" });
    expect(chooseWhere("auto", READY, { ...SMALL, pixels: 5_000_000 })).toEqual({ runOn: "server" });
    expect(chooseWhere("auto", READY, { ...SMALL, hasModel: false })).toEqual({ runOn: "server" });
  });

  test("asked for the device but it cannot: the server, with a note that says why", () => {
    expect(chooseWhere("device", BROKEN, SMALL)).toEqual({ runOn: "server", note: expect.stringMatching(/no WebAssembly/) });
    expect(chooseWhere("device", READY, { ...SMALL, pixels: 5_000_000 }).note).toMatch(/larger than the 4 megapixels/);
  });

  test("the server when asked for it, whatever the device could do", () => {
    expect(chooseWhere("server", READY, SMALL)).toEqual({ runOn: "server" });
  });
});
