import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, isAbort } from "../../api/errors";
import { describeError, type Notice } from "../../api/messages";
import type { NewVideo, VideoApi, VideoJob } from "../../api/videos";
import type { Clip } from "./clip";

/** How often a queued or running video is asked for its progress. */
export const POLL_MS = 1500;

/** A video's life here: nothing sent, the clip going up (then being checked), the server at work, or over
 * (done, failed, or cancelled elsewhere). */
export type VideoRun =
  | { phase: "idle" }
  | { phase: "sending"; share: number }
  | { phase: "working"; job: VideoJob; pollError: Notice | null }
  | { phase: "ended"; job: VideoJob };

export interface VideoJobControl {
  run: VideoRun;
  start(options: Omit<NewVideo, "file">, clip: Pick<Clip, "file" | "contentType">): Promise<void>;
  /** Stops it: an upload is aborted, and the job is deleted on the server. */
  cancel(): void;
  /** Forgets an ended run (starting over). */
  reset(): void;
}

interface Options {
  onNotice(notice: Notice | null): void;
  /** Polling runs only while the mode is shown. */
  active: boolean;
  pollMs?: number;
}

const ENDED = new Set(["done", "failed", "cancelled"]);

// One video at a time: create it, upload the clip, start it, then poll it until it ends.
export function useVideoJob(videos: VideoApi | undefined, { onNotice, active, pollMs = POLL_MS }: Options): VideoJobControl {
  const [run, setRun] = useState<VideoRun>({ phase: "idle" });
  const flight = useRef<{ controller: AbortController; id: string | null } | null>(null);

  const start = useCallback(
    async (options: Omit<NewVideo, "file">, { file, contentType }: Pick<Clip, "file" | "contentType">) => {
      if (!videos) return;
      const mine = { controller: new AbortController(), id: null as string | null };
      flight.current = mine;
      const { signal } = mine.controller;
      onNotice(null);
      setRun({ phase: "sending", share: 0 });
      try {
        const { job, upload } = await videos.create({ ...options, file: { bytes: file.size, contentType, name: file.name } }, signal);
        mine.id = job.id;
        await videos.upload(upload, file, (share) => flight.current === mine && setRun({ phase: "sending", share }), signal);
        const started = await videos.start(job.id, signal);
        if (flight.current === mine) setRun(phaseOf(started));
      } catch (error) {
        if (flight.current !== mine || isAbort(error)) return;
        flight.current = null;
        // A job that never started would hold one of the user's few places until it expires.
        if (mine.id) videos.cancel(mine.id).catch(() => undefined);
        setRun({ phase: "idle" });
        onNotice(videoNotice(error));
      }
    },
    [videos, onNotice],
  );

  const working = run.phase === "working" ? run.job.id : null;
  useEffect(() => {
    if (!videos || !working || !active) return;
    const controller = new AbortController();
    let timer = window.setTimeout(async function poll() {
      try {
        const job = await videos.get(working, controller.signal);
        if (!controller.signal.aborted) setRun(phaseOf(job));
      } catch (error) {
        if (isAbort(error)) return;
        if (error instanceof ApiError && error.code === "unknown_video") {
          setRun({ phase: "idle" }); // expired, or deleted from another tab
          return onNotice(describeError(error));
        }
        // A dropped connection: polling carries on, and the card says so.
        setRun((now) => (now.phase === "working" ? { ...now, pollError: describeError(error) } : now));
      }
      if (!controller.signal.aborted) timer = window.setTimeout(poll, pollMs);
    }, pollMs);
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [videos, working, active, pollMs, onNotice]);

  const cancel = useCallback(() => {
    const mine = flight.current;
    flight.current = null;
    mine?.controller.abort();
    const id = mine?.id ?? (run.phase === "working" ? run.job.id : null);
    setRun({ phase: "idle" });
    if (id && videos) videos.cancel(id).catch((error: unknown) => onNotice(describeError(error)));
  }, [videos, run, onNotice]);

  const reset = useCallback(() => {
    flight.current = null;
    setRun({ phase: "idle" });
  }, []);

  return { run, start, cancel, reset };
}

function phaseOf(job: VideoJob): VideoRun {
  return ENDED.has(job.state) ? { phase: "ended", job } : { phase: "working", job, pollError: null };
}

/** The API's notice, said for videos where the shared wording is about something else. */
export function videoNotice(error: unknown): Notice {
  if (error instanceof ApiError && error.code === "upload_failed") {
    return { title: "The clip could not be uploaded", message: "Nothing was kept. Try again, or try another clip.", code: error.code, detail: error.message };
  }
  if (error instanceof ApiError && error.code === "unauthorized") {
    return { title: "Please sign in", message: "Stylizing a video needs an account on this site: sign in under “Your own styles”.", code: error.code };
  }
  return describeError(error);
}
