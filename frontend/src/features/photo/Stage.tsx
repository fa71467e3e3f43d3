import { useEffect, useState, type ReactNode } from "react";
import type { Photo } from "../../types";
import { formatBytes } from "../../image/pipeline";
import { boxStyle } from "../../components/boxStyle";
import { CompareSlider } from "../../components/CompareSlider";
import { Dropzone } from "../../components/Dropzone";
import { DownloadIcon } from "../../components/icons";
import type { MixedDownload } from "./useMixedDownload";
import type { PhotoJob, PhotoResult } from "./useStylizeJob";

interface Props {
  photo: Photo | null;
  preparing: boolean;
  job: PhotoJob;
  /** What the current settings ask for (useStylizeJob's keyOf): a result for anything else is the previous one. */
  wantedKey: string | null;
  /** The current style's (or blend's) name. */
  wantedName: string;
  strength: number;
  download: MixedDownload;
  /** A mask applies: the screen shows the browser's mix (download.screenUrl), not the strength's CSS opacity. */
  masked?: boolean;
  /** The Download under the result (false on a phone: it is in the action bar there). */
  downloadHere?: boolean;
  /** The mask being painted, over the picture; and its tools, under it. */
  maskLayer?: ReactNode;
  maskTools?: ReactNode;
  coldStartHintMs: number;
  onBrowse(): void;
  onCancel(): void;
}

export function Stage({ photo, preparing, job, wantedKey, wantedName, strength, download, masked = false, downloadHere = true, maskLayer, maskTools, coldStartHintMs, onBrowse, onCancel }: Props) {
  const shown = job.state === "done" ? job.result : job.state === "busy" ? job.previous : null;
  if (shown && photo) {
    // Never a result under a name that is not its own: while another is coming (or after a cancel), the one on
    // screen is dimmed and named as the previous one.
    // With a mask, the mix on screen must be of these results too (a new result is mixed a moment after it comes).
    const previous = job.state === "busy" || shown.key !== wantedKey || (masked && !download.screenCurrent);
    return (
      <ResultView
        photo={photo}
        result={shown}
        previous={previous}
        wantedName={wantedName}
        strength={strength}
        download={download}
        masked={masked}
        downloadHere={downloadHere}
        maskLayer={maskLayer}
        maskTools={maskTools}
        overlay={job.state === "busy" ? <BusyOverlay job={job} hintMs={coldStartHintMs} onCancel={onCancel} /> : null}
      />
    );
  }
  if (!photo) {
    return preparing ? (
      <div className="stage stage--empty" aria-busy="true">
        <div className="spinner" aria-hidden="true" />
        <p className="stage__lead">Reading your photo…</p>
      </div>
    ) : (
      <EmptyStage onBrowse={onBrowse} />
    );
  }
  return (
    <div className="stage" aria-busy={job.state === "busy" || preparing}>
      <figure className="stage__photo" style={boxStyle(photo.width, photo.height)}>
        <img src={photo.previewUrl} alt="Your photo, ready to stylize" data-testid="photo-preview" />
        {maskLayer}
        {job.state === "busy" && (
          <BusyOverlay job={job} hintMs={coldStartHintMs} onCancel={onCancel} />
        )}
      </figure>
      {maskTools}
    </div>
  );
}

function EmptyStage({ onBrowse }: { onBrowse(): void }) {
  const paste = (
    <>
      or <span className="link-like">browse your files</span>, or paste with <kbd>{isMac() ? "⌘" : "Ctrl"}</kbd>+<kbd>V</kbd>
    </>
  );
  return (
    <Dropzone
      onBrowse={onBrowse}
      title={{ pointer: "Drop a photo here", touch: "Tap to choose a photo" }}
      text={{ pointer: paste, touch: "from your photos or camera" }}
      small="JPEG, PNG or WebP, any size: it is resized in your browser before upload."
    />
  );
}

function BusyOverlay({ job, hintMs, onCancel }: { job: Extract<PhotoJob, { state: "busy" }>; hintMs: number; onCancel(): void }) {
  const { styleName, startedAt, runOn, download } = job;
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(performance.now()), 100);
    return () => window.clearInterval(timer);
  }, []);
  useEffect(() => {
    // Escape cancels from anywhere, as the overlay is the one thing on screen that can be acted on.
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onCancel();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onCancel]);
  const elapsed = now - startedAt;
  const slow = elapsed >= hintMs && runOn !== "device";
  const downloading = runOn === "device" && download && (download.total === null || download.loaded < download.total);
  return (
    <div className="busy" role="status" aria-live="polite">
      <div className="busy__card">
        <div className="spinner" aria-hidden="true" />
        <p className="busy__title">Painting in the style of {styleName}…</p>
        <p className="busy__time" aria-hidden="true">
          {(elapsed / 1000).toFixed(1)} s{runOn === "device" ? " · on this device" : runOn === "server" ? " · on the server" : ""}
        </p>
        {downloading && <DownloadProgress loaded={download.loaded} total={download.total} />}
        {slow && (
          <p className="busy__hint" data-testid="cold-start-hint">
            Waking the model up. The first request after a quiet spell loads it from storage and can take up to
            half a minute; the next ones take about a second.
          </p>
        )}
        <button type="button" className="button button--ghost" onClick={onCancel}>
          Cancel <kbd>Esc</kbd>
        </button>
      </div>
    </div>
  );
}

function DownloadProgress({ loaded, total }: { loaded: number; total: number | null }) {
  return (
    <div className="busy__download" data-testid="download-progress">
      <progress max={total ?? undefined} value={total ? loaded : undefined} aria-label="Downloading the style to this device" />
      <p className="busy__hint">
        Downloading the style to this device: {formatBytes(loaded)}
        {total ? ` of ${formatBytes(total)}` : ""}. Only the first time; then it is kept in the browser.
      </p>
    </div>
  );
}

function ResultView({ photo, result, previous, wantedName, strength, download, masked, downloadHere, maskLayer, maskTools, overlay }: {
  photo: Photo;
  result: PhotoResult;
  previous: boolean;
  wantedName: string;
  strength: number;
  download: MixedDownload;
  masked: boolean;
  downloadHere: boolean;
  maskLayer?: ReactNode;
  maskTools?: ReactNode;
  overlay: ReactNode;
}) {
  const label = previous ? `Previous: ${result.styleName}` : result.styleName;
  const percent = Math.round(strength * 100);
  // With a mask the browser's mix is shown (the last one until the next is made); without, CSS opacity mixes.
  const mixed = masked ? download.screenUrl : null;
  return (
    <div className={`stage stage--result${previous ? " stage--previous" : ""}`} aria-busy={overlay !== null} data-testid="result-stage"
      data-current={!previous}>
      <div className="stage__compare">
        <CompareSlider
          beforeUrl={photo.previewUrl}
          afterUrl={mixed ?? result.url}
          beforeLabel="Original"
          afterLabel={label}
          afterOpacity={mixed ? 1 : strength}
          current={!previous}
          width={result.width}
          height={result.height}
        />
        {maskLayer && (
          <div className="mask-layer" style={boxStyle(result.width, result.height)}>
            {maskLayer}
          </div>
        )}
        {overlay}
      </div>
      {maskTools}
      <div className="result-bar">
        <div className="result-bar__info">
          <p className="result-bar__title" data-testid="result-title">
            {label}
            <span className="muted"> {previous ? `Not yet painted in ${wantedName}` : result.artist}</span>
          </p>
          <p className="result-bar__meta muted" data-testid="ran-on" data-ran-on={result.ranOn} data-elapsed-ms={Math.round(result.elapsedMs ?? result.roundTripMs)}>
            {`${result.width} × ${result.height}${percent < 100 ? ` · ${percent}%` : ""} · ${formatSeconds(result.elapsedMs ?? result.roundTripMs)} ${ranOnText(result)}`}
          </p>
        </div>
        {downloadHere && <DownloadLink download={download} testId="download" className="result-bar__download" />}
      </div>
    </div>
  );
}

/** The Download link (or why it is not there yet); under the result, and on a phone in the action bar instead. */
export function DownloadLink({ download, testId, className }: { download: MixedDownload; testId: string; className: string }) {
  return download.url ? (
    <a className={`button button--primary ${className}`} href={download.url} download={download.fileName} data-testid={testId} data-file-name={download.fileName}>
      <DownloadIcon /> Download
    </a>
  ) : (
    <button type="button" className={`button button--primary ${className}`} disabled data-testid={testId} title={download.error}>
      <DownloadIcon /> {download.error ? "Download unavailable" : "Preparing…"}
    </button>
  );
}

function ranOnText(result: PhotoResult): string {
  if (result.ranOn === "server") return "on the server";
  return `on this device (${result.backend === "webgpu" ? "WebGPU" : "WebAssembly"})`;
}

function isMac(): boolean {
  return typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
