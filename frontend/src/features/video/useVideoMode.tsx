// The video mode: a clip from the phone, checked against the limits in the browser, uploaded straight to the
// storage, painted frame by frame on the server in one style or a blend of two, then played beside the
// original and downloaded.
import { useCallback, useRef, useState } from "react";
import { SparkIcon } from "../../components/icons";
import type { ModeProps, ModeView } from "../../components/ModeLayout";
import { blendParts } from "../../device/runner";
import { BlendField, blendPartners } from "../photo/BlendField";
import { labelOf } from "../photo/useStylizeJob";
import { ResultSizeField } from "./ResultSizeField";
import { useClipDrop } from "./useClipDrop";
import { useClipIntake } from "./useClipIntake";
import { useVideoJob } from "./useVideoJob";
import { useVideoLimits } from "./useVideoLimits";
import { VideoStage } from "./VideoStage";
import { VideoStep } from "./VideoStep";

export function useVideoMode({ active, api, catalog, strength, keepColours, onNotice }: ModeProps): ModeView {
  const { style, styles } = catalog;
  const [blendWith, setBlendWith] = useState<string | null>(null);
  const [share, setShare] = useState(0.5);
  const [size, setSize] = useState(720);
  const [ranAs, setRanAs] = useState(""); // the style named on the result: the one it was started with
  const fileInput = useRef<HTMLInputElement>(null);

  const partners = blendPartners(styles.items, style);
  const second = partners.find((p) => p.id === blendWith) ?? null;
  const blend = second ? { second, share } : null;
  const limits = useVideoLimits(api.videos, active);
  const { run, start, cancel, reset } = useVideoJob(api.videos, { onNotice, active });
  const intake = useClipIntake(limits.limits, reset);
  const { clip } = intake;
  const busy = run.phase === "sending" || run.phase === "working";
  const dragging = useClipDrop(intake.take, active && limits.limits !== null && !busy);
  const browse = useCallback(() => fileInput.current?.click(), []);

  const label = style ? labelOf(style, blend) : "";
  const blocker = !limits.limits ? "Reading the limits…" : !clip ? "Choose a clip first." : !style ? "Pick a style." : null;
  const maxSize = Math.min(size, limits.limits?.maxSize ?? size);

  const submit = () => {
    if (busy) return cancel();
    if (!clip || !style || blocker) return;
    setRanAs(label);
    void start({ styleId: style.id, ...(blend && { blend: blendParts(style, blend) }), strength, keepColours, maxSize }, clip);
  };
  const startOver = () => {
    reset();
    intake.clear();
    browse();
  };

  return {
    stage: <VideoStage clip={clip} run={run} styleName={ranAs} onBrowse={browse} onCancel={cancel} onStartOver={startOver} />,
    source: <VideoStep limits={limits} intake={intake} locked={busy} inputRef={fileInput} />,
    withStyle: (
      <BlendField style={style} partners={partners} secondId={second?.id ?? null} share={share} onSecond={setBlendWith} onShare={setShare} />
    ),
    setting: <ResultSizeField size={size} maxSize={limits.limits?.maxSize ?? null} onSize={setSize} />,
    action: {
      label: busy ? "Cancel" : (<><SparkIcon /> Stylize video</>),
      hint: busy ? "Painting your clip…" : (blocker ?? `${label}, ${Math.round(strength * 100)}%, ${size} px`),
      disabled: !busy && blocker !== null,
      busy,
    },
    submit,
    always: (
      <>
        <p className="visually-hidden" aria-live="polite" data-testid="video-announcer">
          {run.phase === "ended" && run.job.state === "done" ? `Done: your clip in the style of ${ranAs}. It plays beside the original; the download is ready.` : ""}
        </p>
        {dragging && (
          <div className="drop-overlay" aria-hidden="true">
            <p>Drop to use this clip</p>
          </div>
        )}
      </>
    ),
  };
}
