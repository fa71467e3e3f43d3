import { useCallback, useEffect, useRef, useState } from "react";
import type { VideoLimits } from "../../api/videos";
import { contentTypeOf, refuseDuration, refuseFile, type Clip } from "./clip";
import { probeClip } from "./probeClip";

export interface ClipIntake {
  clip: Clip | null;
  /** The clip's metadata is being read. */
  checking: boolean;
  /** Why the last file chosen was refused (the current clip, if any, stays). */
  refusal: string | null;
  take(file: File): Promise<void>;
  /** Drops the clip (starting over with another). */
  clear(): void;
}

// The clip to stylize: a file picked or dropped, checked against the limits in the browser. A refused file
// leaves the current clip alone; when several are read at once the latest wins.
export function useClipIntake(limits: VideoLimits | null, onAccept: () => void): ClipIntake {
  const [clip, setClip] = useState<Clip | null>(null);
  const [checking, setChecking] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const ticket = useRef(0);

  // The object URL holds the file until revoked: release each one when it is replaced.
  useEffect(() => () => void (clip && URL.revokeObjectURL(clip.url)), [clip]);

  const take = useCallback(
    async (file: File) => {
      if (!limits) return;
      const mine = ++ticket.current;
      const refused = refuseFile(file, limits);
      setRefusal(refused);
      if (refused) return;
      setChecking(true);
      const url = URL.createObjectURL(file);
      const facts = await probeClip(url);
      if (mine !== ticket.current) return URL.revokeObjectURL(url);
      setChecking(false);
      const tooLong = refuseDuration(file, facts, limits);
      setRefusal(tooLong);
      if (tooLong) return URL.revokeObjectURL(url);
      onAccept();
      setClip({ file, url, contentType: contentTypeOf(file, limits)!, facts });
    },
    [limits, onAccept],
  );

  const clear = useCallback(() => {
    ticket.current++;
    setClip(null);
    setRefusal(null);
    setChecking(false);
  }, []);

  return { clip, checking, refusal, take, clear };
}
