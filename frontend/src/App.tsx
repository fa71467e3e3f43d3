// The shell: the page's frame, the parts every mode shares (the message, the styles, your own styles,
// strength and colours), and the modes, each a feature folder of its own. The shell knows no mode's insides.
import { Fragment, useRef, useState } from "react";
import type { Api } from "./api/client";
import type { Notice } from "./api/messages";
import type { Auth } from "./auth/signin";
import { ModeLayout, type ModeProps, type ModeView } from "./components/ModeLayout";
import { NoticeBanner } from "./components/NoticeBanner";
import { Segmented } from "./components/Segmented";
import { StylePicker } from "./components/StylePicker";
import { TuneStep } from "./components/TuneStep";
import type { AppConfig } from "./config";
import type { DeviceStylizer } from "./device/runner";
import { useLiveMode } from "./features/live/useLiveMode";
import { OwnStylesStep } from "./features/own-styles/OwnStyles";
import { useOwnStyles } from "./features/own-styles/useOwnStyles";
import { usePhotoMode } from "./features/photo/usePhotoMode";
import { useVideoMode } from "./features/video/useVideoMode";
import { useCatalog } from "./hooks/useCatalog";
import type { Mixer } from "./image/mix";
import type { ImageBackend } from "./image/pipeline";

interface Props {
  api: Api;
  config: AppConfig;
  /** Tests pass a fake; the browser's canvas is used otherwise. */
  imageBackend?: ImageBackend;
  /** Stylizing on this device (onnxruntime-web); without it everything goes to the server. */
  device?: DeviceStylizer;
  /** Tests pass a fake; the browser's canvas mixes a result with its photo for a strength otherwise. */
  mixer?: Mixer;
  /** Signing in for the training routes, where the stack wants a user (AWS with TrainingEnabled). */
  auth?: Auth;
}

// The modes, in the picker's order. A new mode is a feature folder with a hook that returns its ModeView,
// one line here and one in `views` below (the type check asks for it).
const MODES = [
  { value: "photo", label: "Photo" },
  { value: "live", label: "Live camera" },
  { value: "video", label: "Video" },
] as const;
type Mode = (typeof MODES)[number]["value"];

export function App({ api, config, imageBackend, device, mixer, auth }: Props) {
  // One message at a time, from whichever part last had something to say.
  const [notice, setNotice] = useState<Notice | null>(null);
  const [mode, setMode] = useState<Mode>("photo");
  const [strength, setStrength] = useState(1);
  const [keepColours, setKeepColours] = useState(false);
  const stageRef = useRef<HTMLDivElement>(null);

  const own = useOwnStyles(api, { onNotice: setNotice });
  const catalog = useCatalog(api, own.styles);
  const { styles, styleId, selectStyle } = catalog;

  // Every mode's hook runs whichever is shown, so that each keeps its state across a switch.
  const shared: Omit<ModeProps, "active"> = { api, config, imageBackend, device, mixer, catalog, strength, keepColours, onNotice: setNotice, stageRef };
  const views: Record<Mode, ModeView> = {
    photo: usePhotoMode({ ...shared, active: mode === "photo" }),
    live: useLiveMode({ ...shared, active: mode === "live" }),
    video: useVideoMode({ ...shared, active: mode === "video" }),
  };

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

      <ModeLayout
        view={views[mode]}
        stageRef={stageRef}
        notice={notice && <NoticeBanner notice={notice} onDismiss={() => setNotice(null)} />}
        modePicker={<Segmented<Mode> name="mode" legend="Stylize" options={MODES} value={mode} onChange={setMode} />}
        stylePicker={
          <StylePicker styles={styles.items} error={styles.error} selectedId={styleId} onSelect={selectStyle} onRetry={styles.reload} />
        }
        ownStyles={<OwnStylesStep own={own} selectedId={styleId} onUse={selectStyle} auth={auth} />}
        tune={<TuneStep strength={strength} keepColours={keepColours} onStrength={setStrength} onKeepColours={setKeepColours} />}
      />

      <footer className="footer">
        <p>
          Feed-forward style transfer after Johnson, Alahi &amp; Fei-Fei, <cite>Perceptual Losses for Real-Time Style
          Transfer</cite> (2016). Styles are trained on public-domain paintings. Photos are stylized and sent back, never
          stored; a clip and its stylized copy are kept for a day, then deleted.
        </p>
      </footer>

      {Object.entries(views).map(([name, view]) => (
        <Fragment key={name}>{view.always}</Fragment>
      ))}
    </div>
  );
}

function BrandMark() {
  return (
    <svg className="brand__mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
      <circle cx="16" cy="16" r="15" fill="var(--accent)" />
      <path d="M7 20c4-9 9-11 18-9-6 1-9 5-10 11-2-2-5-2-8-2z" fill="var(--paper)" />
    </svg>
  );
}
