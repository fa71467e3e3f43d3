import { useCallback, useRef, useState } from "react";
import type { Api } from "./api/client";
import type { Notice } from "./api/messages";
import { PhotoStep } from "./features/photo/PhotoStep";
import { Stage } from "./features/photo/Stage";
import { BlendField, blendPartners } from "./features/photo/BlendField";
import { StylePicker } from "./components/StylePicker";
import { TuneStep } from "./components/TuneStep";
import type { AppConfig } from "./config";
import { useCatalog } from "./hooks/useCatalog";
import { usePhotoDrop } from "./features/photo/usePhotoDrop";
import { usePhotoIntake } from "./features/photo/usePhotoIntake";
import { labelOf, useStylizeJob } from "./features/photo/useStylizeJob";
import type { ImageBackend } from "./image/pipeline";
import type { DeviceStylizer } from "./device/runner";
import type { Where } from "./device/where";
import { WhereField } from "./features/photo/WhereField";
import { LiveSizeField, LiveStage } from "./features/live/LiveCamera";
import { Segmented } from "./components/Segmented";
import { useLiveCamera } from "./features/live/useLiveCamera";
import { useOwnStyles } from "./features/own-styles/useOwnStyles";
import type { Auth } from "./auth/signin";
import { OwnStylesStep } from "./features/own-styles/OwnStyles";
import { SparkIcon } from "./components/icons";

interface Props {
  api: Api;
  config: AppConfig;
  /** Tests pass a fake; the browser's canvas is used otherwise. */
  imageBackend?: ImageBackend;
  /** Stylizing on this device (onnxruntime-web); without it everything goes to the server. */
  device?: DeviceStylizer;
  /** Signing in for the training routes, where the stack wants a user (AWS with TrainingEnabled). */
  auth?: Auth;
}

type Mode = "photo" | "live";
const MODES = [
  { value: "photo", label: "Photo" },
  { value: "live", label: "Live camera" },
] as const;

export function App({ api, config, imageBackend, device, auth }: Props) {
  // One message at a time, from whichever step last had something to say.
  const [notice, setNotice] = useState<Notice | null>(null);
  const [strength, setStrength] = useState(1);
  const [keepColours, setKeepColours] = useState(false);
  const [mode, setMode] = useState<Mode>("photo");
  const [where, setWhere] = useState<Where>("auto");
  const [liveSize, setLiveSize] = useState(256);
  const [blendWith, setBlendWith] = useState<string | null>(null);
  const [share, setShare] = useState(0.5);
  const fileInput = useRef<HTMLInputElement>(null);
  const stageRef = useRef<HTMLDivElement>(null);

  const own = useOwnStyles(api, { onNotice: setNotice });
  const { styles, gallery, styleId, style, selectStyle } = useCatalog(api, own.styles);
  const partners = blendPartners(styles.items, style);
  const second = partners.find((p) => p.id === blendWith) ?? null;
  const blend = second ? { second, share } : null;
  const { job, stylize, cancel, reset } = useStylizeJob(api, setNotice, device);
  const camera = useLiveCamera(device, { style, size: liveSize, strength, keepColours });
  const deviceState = device?.state ?? ({ state: "unavailable", reason: "on-device mode is off" } as const);
  const live = mode === "live";
  const cameraOn = camera.state !== "off";
  const { photo, preparing, takeFile, takeGalleryImage } = usePhotoIntake(api, {
    maxSide: config.maxImageSide,
    imageBackend,
    onNotice: setNotice,
    onAccept: reset,
  });
  const dragging = usePhotoDrop(takeFile);

  const busy = job.state === "busy";
  const blocker = !photo ? "Choose a photo first." : !style ? "Pick a style." : null;

  const start = () => {
    if (!photo || !style) return;
    revealStage(stageRef.current);
    void stylize({ photo, style, blend, strength, keepColours, maxSize: config.maxImageSide, where });
  };

  const browse = useCallback(() => fileInput.current?.click(), []);

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
          {live && camera.error && (
            <div className="notice" role="alert" data-testid="camera-error">
              <div className="notice__body">
                <p className="notice__title">The live camera stopped</p>
                <p className="notice__message">{camera.error}</p>
              </div>
            </div>
          )}
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
          {live ? (
            <LiveStage camera={camera} />
          ) : (
            <Stage
              photo={photo}
              preparing={preparing}
              job={job}
              coldStartHintMs={config.coldStartHintMs}
              onBrowse={browse}
              onCancel={cancel}
            />
          )}
        </div>

        <form
          className="layout__panel"
          aria-label="Stylize settings"
          onSubmit={(event) => {
            event.preventDefault();
            if (live) void (cameraOn ? camera.stop() : camera.start());
            else if (busy) cancel();
            else start();
          }}
        >
          <div className="step">
            <Segmented
              name="mode"
              legend="Stylize"
              options={MODES}
              value={mode}
              onChange={(next) => {
                if (next === "photo") camera.stop();
                setMode(next);
              }}
            />
          </div>
          {!live && (
          <PhotoStep
            photo={photo}
            preparing={preparing}
            gallery={gallery.items}
            galleryError={gallery.error}
            onFile={takeFile}
            onGalleryPick={takeGalleryImage}
            onRetryGallery={gallery.reload}
            inputRef={fileInput}
          />
          )}
          <StylePicker
            styles={styles.items}
            error={styles.error}
            selectedId={styleId}
            onSelect={selectStyle}
            onRetry={styles.reload}
          />
          {!live && (
            <BlendField style={style} partners={partners} secondId={second?.id ?? null} share={share}
              onSecond={setBlendWith} onShare={setShare} />
          )}
          <OwnStylesStep own={own} selectedId={styleId} onUse={selectStyle} auth={auth} />
          <TuneStep strength={strength} keepColours={keepColours} onStrength={setStrength} onKeepColours={setKeepColours} />
          <div className="step">
            {live ? (
              <LiveSizeField size={liveSize} onSize={setLiveSize} />
            ) : (
              <WhereField where={where} device={deviceState} onWhere={setWhere} />
            )}
          </div>
          {live ? (
            <div className="action-bar">
              <button type="submit" className="button button--primary button--large" disabled={!cameraOn && !style} aria-describedby="action-hint">
                {cameraOn ? "Stop camera" : "Start camera"}
              </button>
              <p className="action-bar__hint" id="action-hint" aria-live="polite">
                {cameraOn ? `Live, ${style?.name ?? ""} at ${liveSize} px, on this device` : style ? "Your camera stays on this device." : "Pick a style."}
              </p>
            </div>
          ) : (
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
              {busy ? "Stylizing…" : preparing ? "Reading your photo…" : (blocker ?? (style ? `${labelOf(style, blend)}, ${Math.round(strength * 100)}%` : ""))}
            </p>
          </div>
          )}
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
