// How fast this device stylizes, measured on its own warm runs and remembered in localStorage: Auto uses the
// device only where it is known to be fast enough, and the full-size option says how long it will take.

export const SPEED_KEY = "fast-neural-style:device-speed";
/** A warm device run at or under this many milliseconds per megapixel beats a round trip to the server. */
export const FAST_MS_PER_MP = 900;
/** What a first full-size estimate assumes where this device has not run a photo yet (WebAssembly, 2 threads). */
export const ASSUMED_MS_PER_MP = 2500;

export interface DeviceSpeed {
  msPerMp: number;
  backend: "webgpu" | "wasm";
}

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage blocked (a private window's policy)
  }
}

export function readSpeed(): DeviceSpeed | null {
  try {
    const value: unknown = JSON.parse(storage()?.getItem(SPEED_KEY) ?? "null");
    const speed = value as Partial<DeviceSpeed> | null;
    return speed && typeof speed.msPerMp === "number" && speed.msPerMp > 0 && (speed.backend === "wasm" || speed.backend === "webgpu")
      ? { msPerMp: speed.msPerMp, backend: speed.backend }
      : null;
  } catch {
    return null;
  }
}

/** Remembers a warm run: `ms` for `pixels` (the network and the finishing, not downloads or model loading). */
export function recordSpeed(ms: number, pixels: number, backend: DeviceSpeed["backend"]): DeviceSpeed | null {
  if (!(ms > 0) || !(pixels > 0)) return null;
  const speed = { msPerMp: Math.round((ms / pixels) * 1e6), backend };
  try {
    storage()?.setItem(SPEED_KEY, JSON.stringify(speed));
  } catch {
    // full or blocked: the app still works, Auto stays with the server
  }
  return speed;
}

/** Known to be fast enough for Auto: a remembered warm run under the threshold. */
export function knownFast(speed: DeviceSpeed | null = readSpeed()): boolean {
  return speed !== null && speed.msPerMp <= FAST_MS_PER_MP;
}

/** Milliseconds for `pixels` at the remembered speed (or the assumed one), and whether it was measured. */
export function estimateMs(pixels: number, speed: DeviceSpeed | null = readSpeed()): { ms: number; measured: boolean } {
  return { ms: ((speed?.msPerMp ?? ASSUMED_MS_PER_MP) * pixels) / 1e6, measured: speed !== null };
}
