import { useCallback, useEffect, useRef, useState } from "react";
import type { Api } from "./api/client";
import { isAbort } from "./api/errors";
import { describeError, type Notice } from "./api/messages";
import type { GalleryImage, Style } from "./api/types";
import { PhotoStep, type Photo } from "./components/PhotoStep";
import { Stage, type Job } from "./components/Stage";
import { StylePicker } from "./components/StylePicker";
import { TuneStep } from "./components/TuneStep";
import { usePhotoDrop } from "./components/usePhotoDrop";
import type { AppConfig } from "./config";
import { ImageReadError, prepareImage, type ImageBackend } from "./image/pipeline";

interface Props {
  api: Api;
  config: AppConfig;
  /** Tests pass a fake; the browser's canvas is used otherwise. */
  imageBackend?: ImageBackend;
}

export function App({ api, config, imageBackend }: Props) {
  const [styles, setStyles] = useState<Style[] | null>(null);
  const [stylesError, setStylesError] = useState<string | null>(null);
  const [gallery, setGallery] = useState<GalleryImage[] | null>(null);
  const [galleryError, setGalleryError] = useState<string | null>(null);
  const [photo, setPhoto] = useState<Photo | null>(null);
  const [preparing, setPreparing] = useState(false);
  const [styleId, setStyleId] = useState<string | null>(null);
  const [strength, setStrength] = useState(1);
  const [keepColours, setKeepColours] = useState(false);
  const [job, setJob] = useState<Job>({ state: "idle" });
  const [notice, setNotice] = useState<Notice | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const stageRef = useRef<HTMLDivElement>(null);
  const inFlight = useRef<AbortController | null>(null);
  const photoTicket = useRef(0); // the latest photo wins when several are read at once

  const loadStyles = useCallback(() => {
    const controller = new AbortController();
    setStylesError(null);
    setStyles(null);
    api.listStyles(controller.signal).then(
      (list) => {
        setStyles(list);
        setStyleId((current) => current ?? list[0]?.id ?? null);
      },
      (error) => isAbort(error) || setStylesError(describeError(error).message),
    );
    return () => controller.abort();
  }, [api]);

  const loadGallery = useCallback(() => {
    const controller = new AbortController();
    setGalleryError(null);
    setGallery(null);
    api.listGallery(controller.signal).then(setGallery, (error) => isAbort(error) || setGalleryError(describeError(error).message));
    return () => controller.abort();
  }, [api]);

  useEffect(loadStyles, [loadStyles]);
  useEffect(loadGallery, [loadGallery]);

  // The controller stays in inFlight after a cancel, so the aborted request can tell a cancel
  // (show the photo again) from being superseded by a newer request (leave the state alone).
  const cancel = useCallback(() => inFlight.current?.abort(), []);

  // Object URLs hold the image bytes until revoked: release each one when it is replaced.
  useEffect(() => () => void (photo && URL.revokeObjectURL(photo.previewUrl)), [photo]);
  useEffect(() => () => void (job.state === "done" && URL.revokeObjectURL(job.result.url)), [job]);

  const takePhotoFrom = useCallback(
    async (read: () => Promise<Blob>, describe: (blob: Blob) => Pick<Photo, "name" | "label" | "source">) => {
      const ticket = ++photoTicket.current;
      setPreparing(true);
      setNotice(null);
      try {
        const blob = await read();
        const prepared = await prepareImage(blob, { maxSide: config.maxImageSide, backend: imageBackend });
        if (ticket !== photoTicket.current) return;
        cancel(); // only now: a file that turns out unusable leaves the running request and result alone
        const { name, label, source } = describe(blob);
        setPhoto({
          name,
          label,
          source: { ...source, prepared },
          previewUrl: URL.createObjectURL(prepared.blob),
          width: prepared.width,
          height: prepared.height,
        });
        setJob({ state: "idle" });
      } catch (error) {
        if (ticket !== photoTicket.current || isAbort(error)) return;
        setNotice(
          error instanceof ImageReadError
            ? { title: "That file can’t be used", message: error.message }
            : describeError(error),
        );
      } finally {
        if (ticket === photoTicket.current) setPreparing(false);
      }
    },
    [cancel, config.maxImageSide, imageBackend],
  );

  const onFile = useCallback(
    (file: File) =>
      takePhotoFrom(
        async () => file,
        () => ({
          name: baseName(file.name),
          label: file.name || "Pasted image",
          source: { kind: "upload" } as Photo["source"],
        }),
      ),
    [takePhotoFrom],
  );

  const onGalleryPick = useCallback(
    (image: GalleryImage) =>
      takePhotoFrom(
        () => api.fetchGalleryImage(image.key),
        () => ({
          name: baseName(image.name),
          label: image.name,
          source: { kind: "gallery", key: image.key } as Photo["source"],
        }),
      ),
    [api, takePhotoFrom],
  );

  const dragging = usePhotoDrop(onFile);

  const style = styles?.find((candidate) => candidate.id === styleId) ?? null;
  const busy = job.state === "busy";

  const stylize = useCallback(async () => {
    if (!photo || !style) return;
    cancel();
    const controller = new AbortController();
    inFlight.current = controller;
    const startedAt = performance.now();
    setNotice(null);
    setJob({ state: "busy", styleName: style.name, startedAt });
    revealStage(stageRef.current);
    try {
      const result = await api.stylize(
        {
          styleId: style.id,
          strength,
          keepColours,
          maxSize: config.maxImageSide,
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
      if (!isAbort(error)) setNotice(describeError(error));
    } finally {
      if (inFlight.current === controller) inFlight.current = null;
    }
  }, [api, cancel, config.maxImageSide, keepColours, photo, strength, style]);

  const browse = useCallback(() => fileInput.current?.click(), []);

  const blocker = !photo ? "Choose a photo first." : !style ? "Pick a style." : null;

  return (
    <div className="app">
      <header className="topbar">
        <div className="topbar__inner">
          <h1 className="brand">
            <BrandMark />
            <span>
              Fast <em>neural</em> style
            </span>
          </h1>
          <p className="topbar__tagline">Any photo, painted in a master’s style in about a second.</p>
        </div>
      </header>

      <main className="layout">
        <div className="layout__stage" ref={stageRef}>
          {notice && (
            <div className="notice" role="alert" data-testid="notice" data-code={notice.code ?? ""}>
              <svg className="notice__icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" strokeWidth="2" />
                <path d="M12 7v6m0 3.5v.5" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
              </svg>
              <div className="notice__body">
                <p className="notice__title">{notice.title}</p>
                <p className="notice__message">{notice.message}</p>
                {notice.detail && <p className="notice__detail">{notice.detail}</p>}
              </div>
              <button type="button" className="notice__close" aria-label="Dismiss message" onClick={() => setNotice(null)}>
                ×
              </button>
            </div>
          )}
          <Stage
            photo={photo}
            preparing={preparing}
            job={job}
            coldStartHintMs={config.coldStartHintMs}
            onBrowse={browse}
            onCancel={cancel}
          />
        </div>

        <form
          className="layout__panel"
          aria-label="Stylize settings"
          onSubmit={(event) => {
            event.preventDefault();
            if (busy) cancel();
            else void stylize();
          }}
        >
          <PhotoStep
            photo={photo}
            preparing={preparing}
            gallery={gallery}
            galleryError={galleryError}
            onFile={onFile}
            onGalleryPick={onGalleryPick}
            onRetryGallery={loadGallery}
            inputRef={fileInput}
          />
          <StylePicker styles={styles} error={stylesError} selectedId={styleId} onSelect={setStyleId} onRetry={loadStyles} />
          <TuneStep strength={strength} keepColours={keepColours} onStrength={setStrength} onKeepColours={setKeepColours} />
          <div className="action-bar">
            <button
              type="submit"
              className={`button button--primary button--large${busy ? " button--busy" : ""}`}
              disabled={!busy && (blocker !== null || preparing)}
              aria-describedby="action-hint"
            >
              {busy ? (
                <>
                  <span className="spinner spinner--small" aria-hidden="true" /> Cancel
                </>
              ) : (
                <>
                  <SparkIcon /> Stylize
                </>
              )}
            </button>
            <p className="action-bar__hint" id="action-hint" aria-live="polite">
              {busy ? "Stylizing…" : preparing ? "Reading your photo…" : (blocker ?? (style ? `${style.name}, ${Math.round(strength * 100)}%` : ""))}
            </p>
          </div>
        </form>
      </main>

      <footer className="footer">
        <p>
          Feed-forward style transfer after Johnson, Alahi &amp; Fei-Fei, <cite>Perceptual Losses for Real-Time Style
          Transfer</cite> (2016). Styles are trained on public-domain paintings. Photos are stylized and sent back, never
          stored.
        </p>
      </footer>

      {/* For screen readers: the result arriving is otherwise silent (errors are role="alert"). */}
      <p className="visually-hidden" aria-live="polite" data-testid="announcer">
        {job.state === "done"
          ? `Done: your photo in the style of ${job.result.styleName}. The comparison and the download are ready.`
          : ""}
      </p>

      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <p>Drop to use this photo</p>
        </div>
      )}
    </div>
  );
}

function baseName(fileName: string): string {
  const stem = fileName.replace(/\.[^.]+$/, "").replace(/[^\p{L}\p{N}_-]+/gu, "-").replace(/^-+|-+$/g, "");
  return stem.slice(0, 60) || "photo";
}

function extensionOf(type: string): string {
  return type === "image/png" ? ".png" : type === "image/webp" ? ".webp" : ".jpg";
}

// On a phone the stage sits above the controls: bring it into view so the busy state and the
// result are seen, not hidden above the fold.
function revealStage(stage: HTMLElement | null) {
  if (!stage || typeof stage.getBoundingClientRect !== "function") return;
  const { top, bottom } = stage.getBoundingClientRect();
  if (top < 0 || bottom > window.innerHeight) stage.scrollIntoView?.({ behavior: "smooth", block: "start" });
}

function BrandMark() {
  return (
    <svg className="brand__mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
      <circle cx="16" cy="16" r="15" fill="var(--accent)" />
      <path d="M7 20c4-9 9-11 18-9-6 1-9 5-10 11-2-2-5-2-8-2z" fill="var(--paper)" />
    </svg>
  );
}

function SparkIcon() {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
      <path d="M12 3l1.9 5.6L19.5 10l-5.6 1.9L12 17.5l-1.9-5.6L4.5 10l5.6-1.4z" fill="currentColor" />
      <path d="M19 16l.8 2.2L22 19l-2.2.8L19 22l-.8-2.2L16 19l2.2-.8z" fill="currentColor" />
    </svg>
  );
}
