import { estimateMs, FAST_MS_PER_MP, knownFast, readSpeed, recordSpeed, SPEED_KEY } from "./speed";

describe("the device's measured speed", () => {
  beforeEach(() => localStorage.clear());

  it("is unknown for a first-time visitor: not fast, and an estimate says it is not measured", () => {
    expect(readSpeed()).toBeNull();
    expect(knownFast()).toBe(false);
    expect(estimateMs(12e6)).toEqual({ ms: 30_000, measured: false });
  });

  it("remembers a warm run per megapixel; under the threshold it is fast", () => {
    recordSpeed(500, 1_000_000, "wasm");
    expect(JSON.parse(localStorage.getItem(SPEED_KEY)!)).toEqual({ msPerMp: 500, backend: "wasm" });
    expect(knownFast()).toBe(true);
    expect(estimateMs(4e6)).toEqual({ ms: 2000, measured: true });
    recordSpeed(2 * FAST_MS_PER_MP, 1_000_000, "wasm");
    expect(knownFast()).toBe(false);
  });

  it("ignores what it cannot read", () => {
    localStorage.setItem(SPEED_KEY, "{not json");
    expect(readSpeed()).toBeNull();
    localStorage.setItem(SPEED_KEY, JSON.stringify({ msPerMp: -3, backend: "wasm" }));
    expect(knownFast()).toBe(false);
  });
});
