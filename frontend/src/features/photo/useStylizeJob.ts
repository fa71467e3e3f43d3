import { useCallback, useEffect, useRef, useState } from "react";
import type { Api } from "../../api/client";
import { isAbort } from "../../api/errors";
import { describeError, type Notice } from "../../api/messages";
import type { Style } from "../../api/types";
import type { Progress } from "../../device/cache";
import type { Blend, Photo, StylizedResult } from "../../types";
import { blendParts, type DeviceStylizer } from "../../device/runner";
import { chooseWhere, type DeviceState, type Where } from "../../device/where";
import { DEFAULT_BRUSH } from "../../image/brush";
import { ResultCache } from "./resultCache";

export interface StylizeInput {
  photo: Photo;
  style: Style;
  /** A second style of the same network mixed in (a share of each). */
  blend?: Blend | null;
  keepColours: boolean;
  maxSize: number;
  /** Where to run it: Auto (the server unless the device is known to be fast), on this device, or on the server. */
  where?: Where;
  /** The photo at its own size, on the device in tiles (where the device cannot, the server at maxSize). */
  fullSize?: boolean;
  /** The size of the strokes relative to the picture (the API's brush, image/brush.ts); its default if absent. */
  brush?: number;
}

/** A result at full strength; the strength is mixed in the browser (image/mix.ts). */
export interface PhotoResult extends StylizedResult {
  /** The settings it answers (keyOf): a result whose key is not the current settings' is the previous one. */
  key: string;
  /** The full-strength result. */
  stylized: Blob;
  /** The photo as it was stylized (what a strength mixes with it). */
  photoBlob: Blob;
  keepColours: boolean;
  fullSize: boolean;
  /** The size of its strokes (the API's brush). */
  brush: number;
}

/** The photo's stylizing: nothing yet, a run (over the previous result, if any), or a result. */
export type PhotoJob =
  | { state: "idle" }
  | {
      state: "busy";
      key: string;
      styleName: string;
      startedAt: number;
      runOn?: "device" | "server";
      download?: Progress;
      /** The result shown before this run, kept on screen (marked as the previous one) until it is replaced. */
      previous: PhotoResult | null;
    }
  | { state: "done"; result: PhotoResult };

export interface StylizeJob {
  job: PhotoJob;
  /** Starts a run at full strength, abandoning any running one; a kept result for the same settings is shown
   * instead unless `again` (the Stylize button: paint it anew, where it is now asked to run). */
  stylize(input: StylizeInput, options?: { again?: boolean }): Promise<void>;
  /** Stops the running one at once (on the device too: its result is ignored): the previous result, or the photo. */
  cancel(): void;
  /** Cancels and drops the result and every cached one (a new photo came in). */
  reset(): void;
  /** Whether a result for this key is cached (it then shows at once, with no run). */
  hasCached(key: string): boolean;
}

type KeyedInput = Pick<StylizeInput, "photo" | "style" | "blend" | "keepColours" | "fullSize" | "brush">;

/** What a result answers: the photo, the style or blend, keep colours, full size and the brush (not the strength,
 * nor the mask: both are mixed in the browser). */
export function keyOf({ photo, style, blend, keepColours, fullSize, brush = DEFAULT_BRUSH }: KeyedInput): string {
  return JSON.stringify([photo.previewUrl, style.id, blend ? [blend.second.id, percent(blend.share)] : null, keepColours, !!fullSize, brush]);
}

// One run at a time: its busy state, its cancel, and its result. With a device stylizer it runs on the device
// where `where` and the photo allow, and falls back to the server when that fails. Results are kept in `cache`
// (shared by the jobs of one photo) so that asking again for one shows it at once.
export function useStylizeJob(api: Api, onNotice: (notice: Notice | null) => void, device?: DeviceStylizer, cache?: ResultCache): StylizeJob {
  const [job, setJob] = useState<PhotoJob>({ state: "idle" });
  const [ownCache] = useState(() => new ResultCache());
  const results = cache ?? ownCache;
  const inFlight = useRef<AbortController | null>(null);
  // The result on screen (or kept as the previous one): its object URL is released when it is replaced.
  const kept = useRef<PhotoResult | null>(null);

  const keep = useCallback((result: PhotoResult | null) => {
    if (kept.current && kept.current !== result) URL.revokeObjectURL(kept.current.url);
    kept.current = result;
  }, []);
  useEffect(() => () => keep(null), [keep]);

  // A cancel frees the screen at once, whatever the run is doing: the request is aborted, a device run is
  // no longer waited for (its result is thrown away when it comes).
  const cancel = useCallback(() => {
    const controller = inFlight.current;
    if (!controller) return;
    inFlight.current = null;
    controller.abort();
    setJob((current) =>
      current.state !== "busy" ? current : current.previous ? { state: "done", result: current.previous } : { state: "idle" },
    );
  }, []);

  const reset = useCallback(() => {
    cancel();
    keep(null);
    results.clear();
    setJob({ state: "idle" });
  }, [cancel, keep, results]);

  const stylize = useCallback(
    async (input: StylizeInput, { again = false }: { again?: boolean } = {}) => {
      const styleName = labelOf(input.style, input.blend);
      const key = keyOf(input);
      cancel();
      const cached = again ? null : results.take(key);
      if (cached) {
        keep(cached);
        return void setJob({ state: "done", result: cached });
      }
      const controller = new AbortController();
      inFlight.current = controller;
      const startedAt = performance.now();
      const mine = () => inFlight.current === controller;
      const busy = (more: { runOn?: "device" | "server"; download?: Progress } = {}) =>
        setJob((current) => {
          const previous = current.state === "done" ? current.result : current.state === "busy" ? current.previous : null;
          return { state: "busy", key, styleName, startedAt, previous, ...more };
        });
      onNotice(null);
      busy();
      try {
        let result: Ran | null = null;
        // Without a device (or asked for the server) the request goes out at once, with no await before it.
        const choice = device && (input.where ?? "server") !== "server" ? await decide(input, device) : { runOn: "server" as const };
        if (!mine()) return;
        if (choice.note) onNotice({ title: "Not on this device", message: choice.note });
        if (choice.runOn === "device" && device) {
          busy({ runOn: "device" });
          try {
            result = await untilAborted(onDevice(device, input, controller.signal, (download) => {
              if (mine()) busy({ runOn: "device", download });
            }), controller.signal);
          } catch (error) {
            if (isAbort(error) || controller.signal.aborted) throw error;
            // Never a blank result: the server takes over, and the person is told why in a line.
            const reason = error instanceof Error ? error.message : String(error);
            onNotice({ title: "Stylized on the server instead", message: `This device could not do it (${reason}).`, code: "device_failed" });
          }
        }
        if (!result) {
          if (mine()) busy({ runOn: "server" });
          result = await onServer(api, input, controller.signal);
        }
        if (!mine()) return void URL.revokeObjectURL(result.url);
        const done: PhotoResult = { ...result, key, roundTripMs: performance.now() - startedAt };
        results.put(done);
        keep(done);
        setJob({ state: "done", result: done });
      } catch (error) {
        if (!mine()) return; // cancelled (the state is already back) or superseded by a newer run
        setJob((current) => (current.state === "busy" && current.previous ? { state: "done", result: current.previous } : { state: "idle" }));
        if (!isAbort(error)) onNotice(describeError(error));
      } finally {
        if (mine()) inFlight.current = null;
      }
    },
    [api, cancel, keep, onNotice, device, results],
  );

  const hasCached = useCallback((key: string) => results.has(key), [results]);
  return { job, stylize, cancel, reset, hasCached };
}

/** Where it runs. Auto asks the device only whether it is known to be fast (nothing is downloaded for that):
 * a first-time visitor's photo goes to the server at once. */
async function decide(input: StylizeInput, device: DeviceStylizer) {
  const where = input.fullSize ? "device" : (input.where ?? "server");
  const fast = where === "auto" ? ((await device.knownFast?.()) ?? false) : true;
  if (where === "auto" && !fast) return { runOn: "server" as const };
  const state: DeviceState = await device.check();
  const { prepared } = input.photo.source;
  const full = input.fullSize && input.photo.original;
  return chooseWhere(where, state, {
    pixels: full ? prepared.originalWidth * prepared.originalHeight : prepared.width * prepared.height,
    maxPixels: full ? (device.fullSizeMaxPixels ?? device.maxPixels) : device.maxPixels,
    hasModel: device.modelFor(input.style) != null,
    fast,
  });
}

/** The promise, or an AbortError as soon as the signal fires (the work itself may go on; its result is dropped). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new DOMException("cancelled", "AbortError"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DOMException("cancelled", "AbortError"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) {
          if (value && typeof value === "object" && "url" in value) URL.revokeObjectURL(String(value.url));
          return;
        }
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

type Ran = Omit<PhotoResult, "roundTripMs" | "key">;

async function onDevice(device: DeviceStylizer, input: StylizeInput, signal: AbortSignal, onProgress: (p: Progress) => void): Promise<Ran> {
  const { photo, style, blend, keepColours, fullSize, brush = DEFAULT_BRUSH } = input;
  const out = await device.stylizePhoto({ photo, style, blend, strength: 1, keepColours, fullSize, brush }, { signal, onProgress });
  const atFullSize = !!fullSize && !!photo.original;
  return {
    ...describe(input, out.blob, atFullSize ? photo.original! : photo.source.prepared.blob),
    fullSize: atFullSize,
    width: out.width,
    height: out.height,
    elapsedMs: out.elapsedMs,
    ranOn: "device",
    backend: out.backend,
  };
}

async function onServer(api: Api, input: StylizeInput, signal: AbortSignal): Promise<Ran> {
  const { photo, style, blend, keepColours, maxSize, brush = DEFAULT_BRUSH } = input;
  const result = await api.stylize(
    {
      styleId: style.id,
      ...(blend ? { blend: blendParts(style, blend) } : {}),
      strength: 1,
      keepColours,
      maxSize,
      brush,
      photo:
        photo.source.kind === "gallery"
          ? { kind: "gallery", key: photo.source.key }
          : { kind: "upload", blob: photo.source.prepared.blob },
    },
    signal,
  );
  return {
    ...describe(input, result.blob, photo.source.prepared.blob),
    fullSize: false,
    width: result.width,
    height: result.height,
    elapsedMs: result.elapsedMs,
    ranOn: "server",
  };
}

function describe(input: StylizeInput, blob: Blob, photoBlob: Blob) {
  const { photo, style, blend, keepColours, brush = DEFAULT_BRUSH } = input;
  const styleName = labelOf(style, blend);
  return {
    brush,
    url: URL.createObjectURL(blob),
    stylized: blob,
    photoBlob,
    keepColours,
    styleName,
    artist: blend ? `${style.artist} and ${blend.second.artist}` : style.artist,
    fileName: downloadName({ photoName: photo.name, styleName, strength: 1, keepColours, fullSize: !!input.fullSize, type: blob.type, brush }),
    bytes: blob.size,
  };
}

/** "The Great Wave 70% + Udnie 30%" for a blend, the style's name otherwise. */
export function labelOf(style: Style, blend?: Blend | null): string {
  return blend ? `${style.name} ${percent(blend.share)}% + ${blend.second.name} ${percent(1 - blend.share)}%` : style.name;
}

/** The download's name: the photo's, the style's name (never an id), and what sets this variant apart (a strength
 * under 100%, kept colours, full size, a brush other than the default, a mask), so that two variants of one photo
 * never share a name. */
export function downloadName(what: { photoName: string; styleName: string; strength: number; keepColours: boolean; fullSize: boolean; type: string; brush?: number; masked?: boolean }): string {
  const parts = [what.photoName, slug(what.styleName)];
  if (what.strength < 1) parts.push(`${percent(what.strength)}pct`);
  if (what.keepColours) parts.push("own-colours");
  if (what.fullSize) parts.push("full-size");
  if (what.brush !== undefined && what.brush !== DEFAULT_BRUSH) parts.push(`brush-${String(what.brush).replace(".", "_")}x`);
  if (what.masked) parts.push("masked");
  return `${parts.filter(Boolean).join("-")}${extensionOf(what.type)}`;
}

/** "The Great Wave 70% + Udnie 30%" -> "the-great-wave-70-udnie-30"; accents dropped, letters of any script kept. */
export function slug(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80);
}

function percent(share: number): number {
  return Math.round(share * 100);
}

function extensionOf(type: string): string {
  return type === "image/png" ? ".png" : type === "image/webp" ? ".webp" : ".jpg";
}
