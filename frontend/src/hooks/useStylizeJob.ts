import { useCallback, useEffect, useRef, useState } from "react";
import type { Api } from "../api/client";
import { isAbort } from "../api/errors";
import { describeError, type Notice } from "../api/messages";
import type { Style } from "../api/types";
import type { Job, Photo } from "../types";

export interface StylizeInput {
  photo: Photo;
  style: Style;
  strength: number;
  keepColours: boolean;
  maxSize: number;
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

// One stylize request at a time: its busy state, its cancel, and its result.
export function useStylizeJob(api: Api, onNotice: (notice: Notice | null) => void): StylizeJob {
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
    async ({ photo, style, strength, keepColours, maxSize }: StylizeInput) => {
      cancel();
      const controller = new AbortController();
      inFlight.current = controller;
      const startedAt = performance.now();
      onNotice(null);
      setJob({ state: "busy", styleName: style.name, startedAt });
      try {
        const result = await api.stylize(
          {
            styleId: style.id,
            strength,
            keepColours,
            maxSize,
            photo:
              photo.source.kind === "gallery"
                ? { kind: "gallery", key: photo.source.key }
                : { kind: "upload", blob: photo.source.prepared.blob },
          },
          controller.signal,
        );
        setJob({
          state: "done",
          result: {
            url: URL.createObjectURL(result.blob),
            width: result.width,
            height: result.height,
            styleName: style.name,
            artist: style.artist,
            fileName: `${photo.name}-${style.id}${extensionOf(result.blob.type)}`,
            bytes: result.blob.size,
            elapsedMs: result.elapsedMs,
            roundTripMs: performance.now() - startedAt,
          },
        });
      } catch (error) {
        if (inFlight.current !== controller) return; // superseded by a newer request
        setJob({ state: "idle" });
        if (!isAbort(error)) onNotice(describeError(error));
      } finally {
        if (inFlight.current === controller) inFlight.current = null;
      }
    },
    [api, cancel, onNotice],
  );

  return { job, stylize, cancel, reset };
}

function extensionOf(type: string): string {
  return type === "image/png" ? ".png" : type === "image/webp" ? ".webp" : ".jpg";
}
