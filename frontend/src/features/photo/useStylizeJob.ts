import { useCallback, useEffect, useRef, useState } from "react";
import type { Api } from "../../api/client";
import { isAbort } from "../../api/errors";
import { describeError, type Notice } from "../../api/messages";
import type { Style } from "../../api/types";
import type { Progress } from "../../device/cache";
import type { Blend, Job, Photo, StylizedResult } from "../../types";
import { blendParts, type DeviceStylizer } from "../../device/runner";
import { chooseWhere, type DeviceState, type Where } from "../../device/where";

export interface StylizeInput {
  photo: Photo;
  style: Style;
  /** A second style of the same network mixed in (a share of each). */
  blend?: Blend | null;
  strength: number;
  keepColours: boolean;
  maxSize: number;
  /** Where to run it: Auto (the device where it can), on this device, or on the server. */
  where?: Where;
}

export interface StylizeJob {
  job: Job;
  /** Sends the request, cancelling any running one. */
  stylize(input: StylizeInput): Promise<void>;
  /** Cancels the running request: the photo shows again. */
  cancel(): void;
  /** Cancels the running request and drops the result (a new photo came in). */
  reset(): void;
}

// One stylize request at a time: its busy state, its cancel, and its result. With a device stylizer it
// runs on the device where `where` and the photo allow, and falls back to the server when that fails.
export function useStylizeJob(api: Api, onNotice: (notice: Notice | null) => void, device?: DeviceStylizer): StylizeJob {
  const [job, setJob] = useState<Job>({ state: "idle" });
  const inFlight = useRef<AbortController | null>(null);

  // Object URLs hold the image bytes until revoked: release each one when it is replaced.
  useEffect(() => () => void (job.state === "done" && URL.revokeObjectURL(job.result.url)), [job]);

  // The controller stays in inFlight after a cancel, so the aborted request can tell a cancel
  // (show the photo again) from being superseded by a newer request (leave the state alone).
  const cancel = useCallback(() => inFlight.current?.abort(), []);

  const reset = useCallback(() => {
    cancel();
    setJob({ state: "idle" });
  }, [cancel]);

  const stylize = useCallback(
    async (input: StylizeInput) => {
      const style = { ...input.style, name: labelOf(input.style, input.blend) };
      cancel();
      const controller = new AbortController();
      inFlight.current = controller;
      const startedAt = performance.now();
      onNotice(null);
      setJob({ state: "busy", styleName: style.name, startedAt });
      const mine = () => inFlight.current === controller;
      try {
        let result: Ran | null = null;
        // Without a device (or asked for the server) the request goes out at once, with no await before it.
        const choice = device && (input.where ?? "server") !== "server" ? await decide(input, device) : { runOn: "server" as const };
        if (choice.note) onNotice({ title: "Not on this device", message: choice.note });
        if (choice.runOn === "device" && device) {
          setJob({ state: "busy", styleName: style.name, startedAt, runOn: "device" });
          try {
            result = await onDevice(device, input, controller.signal, (download) => {
              if (mine()) setJob({ state: "busy", styleName: style.name, startedAt, runOn: "device", download });
            });
          } catch (error) {
            if (isAbort(error) || controller.signal.aborted) throw error;
            // Never a blank result: the server takes over, and the person is told why in a line.
            const reason = error instanceof Error ? error.message : String(error);
            onNotice({ title: "Stylized on the server instead", message: `This device could not do it (${reason}).`, code: "device_failed" });
          }
        }
        if (!result) {
          if (mine()) setJob({ state: "busy", styleName: style.name, startedAt, runOn: "server" });
          result = await onServer(api, input, controller.signal);
        }
        if (!mine()) return;
        setJob({ state: "done", result: { ...result, roundTripMs: performance.now() - startedAt } });
      } catch (error) {
        if (!mine()) return; // superseded by a newer request
        setJob({ state: "idle" });
        if (!isAbort(error)) onNotice(describeError(error));
      } finally {
        if (mine()) inFlight.current = null;
      }
    },
    [api, cancel, onNotice, device],
  );

  return { job, stylize, cancel, reset };
}

async function decide(input: StylizeInput, device: DeviceStylizer) {
  const state: DeviceState = await device.check();
  const { prepared } = input.photo.source;
  return chooseWhere(input.where ?? "server", state, {
    pixels: prepared.width * prepared.height,
    maxPixels: device.maxPixels,
    hasModel: device.modelFor(input.style) != null,
  });
}

type Ran = Omit<StylizedResult, "roundTripMs">;

async function onDevice(device: DeviceStylizer, input: StylizeInput, signal: AbortSignal, onProgress: (p: Progress) => void): Promise<Ran> {
  const out = await device.stylizePhoto(input, { signal, onProgress });
  return {
    ...describe(input, out.blob),
    width: out.width,
    height: out.height,
    elapsedMs: out.elapsedMs,
    ranOn: "device",
    backend: out.backend,
  };
}

async function onServer(api: Api, input: StylizeInput, signal: AbortSignal): Promise<Ran> {
  const { photo, style, blend, strength, keepColours, maxSize } = input;
  const result = await api.stylize(
    {
      styleId: style.id,
      ...(blend ? { blend: blendParts(style, blend) } : {}),
      strength,
      keepColours,
      maxSize,
      photo:
        photo.source.kind === "gallery"
          ? { kind: "gallery", key: photo.source.key }
          : { kind: "upload", blob: photo.source.prepared.blob },
    },
    signal,
  );
  return { ...describe(input, result.blob), width: result.width, height: result.height, elapsedMs: result.elapsedMs, ranOn: "server" };
}

function describe({ photo, style, blend }: StylizeInput, blob: Blob) {
  const styles = blend
    ? `${style.id}-${percent(blend.share)}-${blend.second.id}-${percent(1 - blend.share)}`
    : style.id;
  return {
    url: URL.createObjectURL(blob),
    styleName: labelOf(style, blend),
    artist: blend ? `${style.artist} and ${blend.second.artist}` : style.artist,
    fileName: `${photo.name}-${styles}${extensionOf(blob.type)}`,
    bytes: blob.size,
  };
}

/** "The Great Wave 70% + Udnie 30%" for a blend, the style's name otherwise. */
export function labelOf(style: Style, blend?: Blend | null): string {
  return blend ? `${style.name} ${percent(blend.share)}% + ${blend.second.name} ${percent(1 - blend.share)}%` : style.name;
}

function percent(share: number): number {
  return Math.round(share * 100);
}

function extensionOf(type: string): string {
  return type === "image/png" ? ".png" : type === "image/webp" ? ".webp" : ".jpg";
}
