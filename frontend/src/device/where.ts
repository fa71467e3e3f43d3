// Where a photo is stylized: the person's choice, what this browser can do, and the photo's size.

export type Where = "auto" | "device" | "server";

export const WHERE_LABELS: Record<Where, string> = {
  auto: "Auto",
  device: "On this device",
  server: "On the server",
};

export type DeviceState =
  | { state: "unknown" }
  | { state: "ready"; backend: "webgpu" | "wasm"; threads: number }
  | { state: "unavailable"; reason: string };

export interface Choice {
  runOn: "device" | "server";
  /** Why the device was passed over although the person asked for it: shown as a short note. */
  note?: string;
}

/** `fast`: the device is known to be fast enough (a measured warm run, or WebGPU). Auto uses the device only
 * then: a first-time visitor gets the server's answer at once, without the runtime's download before it. */
export function chooseWhere(where: Where, device: DeviceState, facts: { pixels: number; maxPixels: number; hasModel: boolean; fast?: boolean }): Choice {
  if (where === "server") return { runOn: "server" };
  if (where === "auto" && !facts.fast) return { runOn: "server" };
  const problem =
    device.state === "unavailable"
      ? `this browser cannot run styles itself (${device.reason})`
      : !facts.hasModel
        ? "this style has no model file for the browser"
        : facts.pixels > facts.maxPixels
          ? `the photo is larger than the ${Math.round(facts.maxPixels / 1e6)} megapixels the device takes`
          : null;
  if (problem === null) return { runOn: "device" };
  return where === "device" ? { runOn: "server", note: `Stylized on the server: ${problem}.` } : { runOn: "server" };
}
