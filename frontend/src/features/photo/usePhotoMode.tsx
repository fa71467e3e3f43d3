// The photo mode: a photo (an upload, a paste, a drop or a gallery sample) stylized on the server or on this
// device, one style or a blend of two, then compared and downloaded.
import { useCallback, useRef, useState } from "react";
import { SparkIcon } from "../../components/icons";
import type { ModeProps, ModeView } from "../../components/ModeLayout";
import type { Where } from "../../device/where";
import { BlendField, blendPartners } from "./BlendField";
import { PhotoStep } from "./PhotoStep";
import { Stage } from "./Stage";
import { usePhotoDrop } from "./usePhotoDrop";
import { usePhotoIntake } from "./usePhotoIntake";
import { labelOf, useStylizeJob } from "./useStylizeJob";
import { WhereField } from "./WhereField";

const NO_DEVICE = { state: "unavailable", reason: "on-device mode is off" } as const;

export function usePhotoMode(props: ModeProps): ModeView {
  const { api, config, device, imageBackend, catalog, strength, keepColours, onNotice, stageRef } = props;
  const { style, styles, gallery } = catalog;
  const [where, setWhere] = useState<Where>("auto");
  const [blendWith, setBlendWith] = useState<string | null>(null);
  const [share, setShare] = useState(0.5);
  const fileInput = useRef<HTMLInputElement>(null);

  const partners = blendPartners(styles.items, style);
  const second = partners.find((p) => p.id === blendWith) ?? null;
  const blend = second ? { second, share } : null;
  const { job, stylize, cancel, reset } = useStylizeJob(api, onNotice, device);
  const { photo, preparing, takeFile, takeGalleryImage } = usePhotoIntake(api, {
    maxSide: config.maxImageSide,
    imageBackend,
    onNotice,
    onAccept: reset,
  });
  const dragging = usePhotoDrop(takeFile);
  const browse = useCallback(() => fileInput.current?.click(), []);

  const busy = job.state === "busy";
  const blocker = !photo ? "Choose a photo first." : !style ? "Pick a style." : null;

  const start = () => {
    if (!photo || !style) return;
    revealStage(stageRef.current);
    void stylize({ photo, style, blend, strength, keepColours, maxSize: config.maxImageSide, where });
  };

  return {
    stage: (
      <Stage photo={photo} preparing={preparing} job={job} coldStartHintMs={config.coldStartHintMs} onBrowse={browse} onCancel={cancel} />
    ),
    source: (
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
    ),
    withStyle: (
      <BlendField style={style} partners={partners} secondId={second?.id ?? null} share={share} onSecond={setBlendWith} onShare={setShare} />
    ),
    setting: <WhereField where={where} device={device?.state ?? NO_DEVICE} onWhere={setWhere} />,
    action: {
      label: busy ? (
        <>
          <span className="spinner spinner--small" aria-hidden="true" /> Cancel
        </>
      ) : (
        <>
          <SparkIcon /> Stylize
        </>
      ),
      hint: busy
        ? "Stylizing…"
        : preparing
          ? "Reading your photo…"
          : (blocker ?? (style ? `${labelOf(style, blend)}, ${Math.round(strength * 100)}%` : "")),
      disabled: !busy && (blocker !== null || preparing),
      busy,
    },
    submit: () => (busy ? cancel() : start()),
    always: (
      <>
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
      </>
    ),
  };
}

// On a phone the stage sits above the controls: bring it into view so the busy state and the
// result are seen, not hidden above the fold.
function revealStage(stage: HTMLElement | null) {
  if (!stage || typeof stage.getBoundingClientRect !== "function") return;
  const { top, bottom } = stage.getBoundingClientRect();
  if (top < 0 || bottom > window.innerHeight) stage.scrollIntoView?.({ behavior: "smooth", block: "start" });
}
