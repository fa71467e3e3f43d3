import { useEffect } from "react";
import { Dropzone } from "../../components/Dropzone";
import { DownloadIcon } from "../../components/icons";
import type { VideoJob, VideoResult } from "../../api/videos";
import { timeLeft } from "../own-styles/OwnStyles";
import { formatDuration, formatMegabytes, type Clip } from "./clip";
import { SyncedVideos } from "./SyncedVideos";
import type { VideoRun } from "./useVideoJob";

interface Props {
  clip: Clip | null;
  run: VideoRun;
  styleName: string;
  onBrowse(): void;
  onCancel(): void;
  onStartOver(): void;
}

/** The video mode's stage: a place to drop a clip, the clip, its progress, then the result beside it. */
export function VideoStage({ clip, run, styleName, onBrowse, onCancel, onStartOver }: Props) {
  if (run.phase === "ended" && clip) return <EndedView clip={clip} job={run.job} styleName={styleName} onStartOver={onStartOver} />;
  if (!clip) return <EmptyStage onBrowse={onBrowse} />;
  const busy = run.phase === "sending" || run.phase === "working";
  return (
    <div className="stage" aria-busy={busy} data-testid="video-stage">
      {busy ? (
        <ProgressCard run={run} styleName={styleName} onCancel={onCancel} />
      ) : (
        <video className="video-clip" src={clip.url} controls playsInline preload="metadata" aria-label="Your clip, ready to stylize" data-testid="clip-preview" />
      )}
    </div>
  );
}

function EmptyStage({ onBrowse }: { onBrowse(): void }) {
  const browse = (
    <>
      or <span className="link-like">browse your files</span>
    </>
  );
  return (
    <Dropzone
      onBrowse={onBrowse}
      title={{ pointer: "Drop a clip here", touch: "Tap to choose a clip" }}
      text={{ pointer: browse, touch: "from your videos or camera" }}
      small="A short clip from your phone: every frame is painted, then the sound is put back."
    />
  );
}

function ProgressCard({ run, styleName, onCancel }: { run: Extract<VideoRun, { phase: "sending" | "working" }>; styleName: string; onCancel(): void }) {
  useEffect(() => {
    // Escape cancels from anywhere, as in the photo mode's busy state.
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onCancel();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onCancel]);
  const job = run.phase === "working" ? run.job : null;
  return (
    <div className="video-progress" role="status" data-testid="video-progress" data-state={job?.state ?? "uploading"}>
      <p className="busy__title">Painting your clip in the style of {styleName}…</p>
      {job ? <FramesDone job={job} /> : <Uploading share={run.phase === "sending" ? run.share : 0} />}
      {job?.preview ? (
        <img className="video-progress__preview" src={job.preview} alt="The newest painted frame" data-testid="video-preview" />
      ) : null}
      {run.phase === "working" && run.pollError && (
        <p className="busy__hint">Lost touch with the server ({run.pollError.title.toLowerCase()}); still trying.</p>
      )}
      <button type="button" className="button button--ghost" onClick={onCancel}>
        Cancel <kbd>Esc</kbd>
      </button>
    </div>
  );
}

function Uploading({ share }: { share: number }) {
  const percent = Math.round(share * 100);
  const label = share >= 1 ? "Uploaded; checking the clip…" : `Uploading ${percent}%`;
  return (
    <div className="video-progress__bar">
      <progress max={100} value={percent} aria-label="Uploading the clip" />
      <p className="busy__time" data-testid="video-status">{label}</p>
    </div>
  );
}

function FramesDone({ job }: { job: VideoJob }) {
  const total = job.framesTotal;
  const status =
    job.state === "queued" || total === null
      ? "Waiting for its turn…"
      : `Frame ${job.framesDone.toLocaleString("en")} of ${total.toLocaleString("en")} · ${timeLeft(job.secondsLeft)}`;
  return (
    <div className="video-progress__bar">
      <progress max={total ?? undefined} value={total ? job.framesDone : undefined} aria-label="Frames painted" />
      <p className="busy__time" data-testid="video-status">{status}</p>
    </div>
  );
}

function EndedView({ clip, job, styleName, onStartOver }: { clip: Clip; job: VideoJob; styleName: string; onStartOver(): void }) {
  const again = (
    <button type="button" className="button button--ghost" onClick={onStartOver}>
      Start over with another clip
    </button>
  );
  if (job.state !== "done" || !job.result) {
    return (
      <div className="stage stage--empty" data-testid="video-ended" data-state={job.state}>
        <div className="video-progress" role="alert">
          <p className="busy__title">{job.state === "cancelled" ? "The video was cancelled" : "The video could not be made"}</p>
          {job.error && <p className="busy__hint" data-testid="video-error">{job.error}</p>}
          {again}
        </div>
      </div>
    );
  }
  return (
    <div className="stage stage--result" data-testid="video-ended" data-state="done">
      <SyncedVideos originalUrl={clip.url} result={job.result} styleName={styleName} />
      <div className="result-bar">
        <div className="result-bar__info">
          <p className="result-bar__title">{styleName}</p>
          <p className="result-bar__meta muted" data-testid="video-facts">{resultFacts(job.result)}</p>
        </div>
        <div className="video-actions">
          {again}
          <a className="button button--primary" href={job.result.downloadUrl} download data-testid="video-download">
            <DownloadIcon /> Download
          </a>
        </div>
      </div>
    </div>
  );
}

/** "640 × 360 · 30 fps · 12 s · 4.2 MB · with sound". */
export function resultFacts(result: VideoResult): string {
  const fps = Number.isInteger(result.fps) ? result.fps : result.fps.toFixed(2);
  const sound = result.hasAudio ? "with sound" : "no sound";
  return `${result.width} × ${result.height} · ${fps} fps · ${formatDuration(result.durationS)} · ${formatMegabytes(result.bytes)} · ${sound}`;
}
