import { useEffect, useRef } from "react";
import type { VideoResult } from "../../api/videos";

/** How far apart the two may drift (seconds) before the original is brought back to the stylized one. */
const DRIFT_S = 0.25;

interface Props {
  originalUrl: string;
  result: VideoResult;
  styleName: string;
}

/** The stylized clip beside the original, each with its own controls, moving as one: playing, pausing, seeking
 * or changing the speed of either does the same to the other. The original is muted (one soundtrack). */
export function SyncedVideos({ originalUrl, result, styleName }: Props) {
  const original = useRef<HTMLVideoElement>(null);
  const stylized = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const [a, b] = [original.current, stylized.current];
    if (!a || !b) return;
    const undo = [follow(a, b), follow(b, a), keepUp(a, b)];
    return () => undo.forEach((off) => off());
  }, [originalUrl, result.url]);
  return (
    <div className="video-pair">
      <figure className="video-pair__item">
        <video ref={original} src={originalUrl} controls muted playsInline preload="metadata" data-testid="original-video" aria-label="Your clip" />
        <figcaption>Original (muted)</figcaption>
      </figure>
      <figure className="video-pair__item">
        <video ref={stylized} src={result.url} controls playsInline preload="metadata" data-testid="result-video" aria-label={`Your clip in the style of ${styleName}`} />
        <figcaption>{styleName}</figcaption>
      </figure>
    </div>
  );
}

/** `follower` does what `leader` is made to do. Each change is only made where the follower differs, so the
 * echo from the follower back to the leader stops there. */
function follow(leader: HTMLVideoElement, follower: HTMLVideoElement): () => void {
  const handlers: [string, () => void][] = [
    ["play", () => void (follower.paused && follower.play()?.catch(() => undefined))],
    ["pause", () => void (!follower.paused && follower.pause())],
    ["seeking", () => void (Math.abs(follower.currentTime - leader.currentTime) > DRIFT_S / 5 && (follower.currentTime = leader.currentTime))],
    ["ratechange", () => void (follower.playbackRate !== leader.playbackRate && (follower.playbackRate = leader.playbackRate))],
  ];
  handlers.forEach(([name, handler]) => leader.addEventListener(name, handler));
  return () => handlers.forEach(([name, handler]) => leader.removeEventListener(name, handler));
}

/** While playing, the two decode at their own pace: the original is nudged back when it drifts. */
function keepUp(original: HTMLVideoElement, stylized: HTMLVideoElement): () => void {
  const nudge = () => {
    if (!stylized.paused && Math.abs(original.currentTime - stylized.currentTime) > DRIFT_S) original.currentTime = stylized.currentTime;
  };
  stylized.addEventListener("timeupdate", nudge);
  return () => stylized.removeEventListener("timeupdate", nudge);
}
