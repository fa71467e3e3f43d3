import { useCallback, useEffect, useState } from "react";
import { isAbort } from "../../api/errors";
import { describeError } from "../../api/messages";
import type { VideoApi, VideoLimits } from "../../api/videos";

export interface Limits {
  limits: VideoLimits | null;
  /** Why they could not be read: then no clip can be checked, and none is sent. */
  error: string | null;
  reload(): void;
}

// GET /videos/limits, asked the first time the mode is shown (a page that never opens it never asks).
export function useVideoLimits(videos: VideoApi | undefined, active: boolean): Limits {
  const [limits, setLimits] = useState<VideoLimits | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asked, setAsked] = useState(0);
  const wanted = active && !limits && !error;

  useEffect(() => {
    if (!wanted) return;
    if (!videos) return setError("This site does not stylize videos.");
    const controller = new AbortController();
    videos.limits(controller.signal).then(setLimits, (failure: unknown) => {
      if (isAbort(failure)) return;
      const notice = describeError(failure);
      setError(`${notice.title}. ${notice.message}`);
    });
    return () => controller.abort();
  }, [videos, wanted, asked]);

  const reload = useCallback(() => {
    setError(null);
    setAsked((n) => n + 1);
  }, []);

  return { limits, error, reload };
}
