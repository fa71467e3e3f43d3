// The device path as the app uses it: starts the engine once (and remembers when it cannot), turns a photo
// into pixels the way the server reads it, stylizes them and encodes the result.
import type { Style } from "../api/types";
import type { AppConfig } from "../config";
import type { Blend, Photo } from "../types";
import type { FetchOptions, Progress } from "./cache";
import { detectBackend, startEngine, type Engine } from "./engine";
import { STEADY_VARIANT, deviceModelFor } from "./models";
import type { Rgba } from "./pixels";
import { knownFast, readSpeed, recordSpeed } from "./speed";
import { DEVICE_FULL_SIZE_MAX_PIXELS, DEVICE_MAX_PIXELS, ensureModel, stylizeOnDevice, type DeviceModel } from "./stylize";
import type { DeviceState } from "./where";

export interface DeviceResult {
  blob: Blob;
  width: number;
  height: number;
  /** Model download (if any), decoding, the network and encoding. */
  elapsedMs: number;
  /** The network and the finishing alone (no download, no model loading, no encoding). */
  computeMs?: number;
  backend: "webgpu" | "wasm";
}

export interface DeviceJob {
  photo: Photo;
  style: Style;
  /** A second style of the same network, mixed in. */
  blend?: Blend | null;
  strength: number;
  keepColours: boolean;
  /** The photo at its own size (the original file's pixels, upright) instead of the prepared one. */
  fullSize?: boolean;
  /** The size of the strokes relative to the picture (the API's brush); none: painted at the photo's size. */
  brush?: number;
}

/** What the app asks of the device; tests pass a fake. */
export interface DeviceStylizer {
  readonly maxPixels: number;
  /** The largest photo the full-size option takes (in tiles). */
  readonly fullSizeMaxPixels?: number;
  /** Whether Auto should use the device: a remembered warm run was fast enough, or the browser has WebGPU.
   * Asks nothing of the network (the runtime is not downloaded for it). Without it, Auto uses the server. */
  knownFast?(): Promise<boolean>;
  /** The remembered milliseconds per megapixel of a warm run here, or null. */
  msPerMp?(): number | null;
  /** What is known so far: unknown until the engine was first asked for. */
  readonly state: DeviceState;
  /** Starts the engine where it has not started (downloading the runtime once): ready or unavailable. */
  check(onProgress?: (progress: Progress) => void): Promise<DeviceState>;
  modelFor(style: Style): DeviceModel | null;
  stylizePhoto(job: DeviceJob, options: { signal?: AbortSignal; onProgress?(progress: Progress): void }): Promise<DeviceResult>;
  /** A camera frame with a style, for the live mode: painted by the style's steady file where it has one (strokes
   * that hold still as the camera moves), else by the one photos use. */
  stylizePixels(pixels: Rgba, style: Style, how: { strength: number; keepColours: boolean }): Promise<Rgba>;
}

/** A blend as the API and the network take it: the picked style's share, and the rest for the second. */
export function blendParts(style: Style, blend: Blend) {
  return [
    { styleId: style.id, weight: blend.share },
    { styleId: blend.second.id, weight: 1 - blend.share },
  ];
}

/** `signedFetch` (auth/signin's authorizedFetch) downloads the model files the training routes serve. */
export function createDeviceStylizer(
  config: Pick<AppConfig, "modelsBaseUrl" | "modelVariant" | "deviceBackend">,
  { signedFetch }: Pick<FetchOptions, "signedFetch"> = {},
): DeviceStylizer {
  let engine: Promise<Engine> | null = null;
  let state: DeviceState = { state: "unknown" };

  const getEngine = (onProgress?: (progress: Progress) => void) => {
    engine ??= startEngine({ backend: config.deviceBackend, onProgress });
    return engine;
  };

  const modelFor = (style: Style) => deviceModelFor(style, config.modelVariant, config.modelsBaseUrl);
  const movingModelFor = (style: Style) => deviceModelFor(style, [STEADY_VARIANT, config.modelVariant], config.modelsBaseUrl);

  const requireModel = (style: Style, moving = false) => {
    const model = (moving ? movingModelFor : modelFor)(style);
    if (!model) throw new Error(`“${style.name}” has no model file for the browser`);
    return model;
  };

  // A session's first run warms it up (allocations, the WebAssembly's first pass): only later ones are measured.
  const warmed = new Set<string>();

  return {
    maxPixels: DEVICE_MAX_PIXELS,
    fullSizeMaxPixels: DEVICE_FULL_SIZE_MAX_PIXELS,
    get state() {
      return state;
    },
    async knownFast() {
      if (knownFast()) return true;
      if (config.deviceBackend === "wasm") return false;
      return (await detectBackend(config.deviceBackend)) === "webgpu";
    },
    msPerMp: () => readSpeed()?.msPerMp ?? null,
    modelFor,
    async check(onProgress) {
      try {
        const ready = await getEngine(onProgress);
        state = { state: "ready", backend: ready.backend, threads: ready.threads };
      } catch (error) {
        state = { state: "unavailable", reason: error instanceof Error ? error.message : String(error) };
      }
      return state;
    },
    async stylizePhoto({ photo, style, blend, strength, keepColours, fullSize, brush }, { signal, onProgress }) {
      const started = performance.now();
      const ready = await getEngine(onProgress);
      const model = { ...requireModel(style), mix: blend ? blendParts(style, blend) : undefined };
      const fetchOptions = { signal, onProgress, signedFetch };
      await ensureModel(ready, model, fetchOptions);
      const pixels = await photoPixels(photo, fullSize);
      signal?.throwIfAborted();
      const ranAt = performance.now();
      const out = await stylizeOnDevice({ engine: ready, model, photo: pixels, strength, keepColours, fetchOptions, brush });
      const computeMs = performance.now() - ranAt;
      // Until a warm run is measured, a first one stands in (slower: it only makes estimates longer, never Auto faster).
      if (warmed.has(model.file.sha256) || !readSpeed()) recordSpeed(computeMs, out.width * out.height, ready.backend);
      warmed.add(model.file.sha256);
      signal?.throwIfAborted();
      const blob = await encodePng(out);
      return { blob, width: out.width, height: out.height, elapsedMs: performance.now() - started, computeMs, backend: ready.backend };
    },
    async stylizePixels(pixels, style, how) {
      const ready = await getEngine();
      return stylizeOnDevice({ engine: ready, model: requireModel(style, true), photo: pixels, ...how, fetchOptions: { signedFetch } });
    },
  };
}

// The pixels the server would see: the prepared JPEG that would be uploaded (already upright and sized).
// A photo with transparency keeps it on the device: its own pixels at that size, alpha included, as the
// server keeps alpha in PNG results. At full size: the original file's own pixels, upright.
export async function photoPixels(photo: Photo, fullSize = false): Promise<Rgba> {
  const { prepared } = photo.source;
  const original = photo.original;
  if (fullSize && original) {
    return decodePixels(original, prepared.originalWidth, prepared.originalHeight, "from-image");
  }
  if (original && /^image\/(png|webp|gif)$/.test(original.type)) {
    const pixels = await decodePixels(original, prepared.width, prepared.height, "from-image");
    if (hasTransparency(pixels)) return pixels;
  }
  return decodePixels(prepared.blob, prepared.width, prepared.height, "none");
}

function hasTransparency({ data }: Rgba): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i]! < 255) return true;
  return false;
}

async function decodePixels(blob: Blob, width: number, height: number, orientation: ImageOrientation): Promise<Rgba> {
  const bitmap = await createImageBitmap(blob, { imageOrientation: orientation, premultiplyAlpha: "none", colorSpaceConversion: "none" });
  try {
    const context = canvas2d(width, height);
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    const { data } = context.getImageData(0, 0, width, height);
    return { data, width, height };
  } finally {
    bitmap.close();
  }
}

export function canvas2d(width: number, height: number): CanvasRenderingContext2D {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) throw new Error("this browser cannot draw images (no 2D canvas)");
  return context;
}

export async function encodePng({ data, width, height }: Rgba): Promise<Blob> {
  const context = canvas2d(width, height);
  context.putImageData(new ImageData(data as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  return new Promise((resolve, reject) =>
    context.canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("could not encode the result"))), "image/png"),
  );
}
