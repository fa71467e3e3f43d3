// The photo mode: a photo (an upload, a paste, a drop or a gallery sample) stylized on the server or on this
// device, one style or a blend of two, then compared and downloaded. Picking a photo, a style, a blend, keep
// colours, full size or a brush size paints it at once (after a short pause, a newer pick replacing an older
// run); the strength and the mask (where the style goes) are mixed in the browser over the full-strength result,
// so they never wait. A second style on the mask's other side is a second result, mixed the same way.
import { useCallback, useEffect, useRef, useState } from "react";
import { SparkIcon } from "../../components/icons";
import type { ModeProps, ModeView } from "../../components/ModeLayout";
import type { Where } from "../../device/where";
import { DEFAULT_BRUSH } from "../../image/brush";
import { browserMixer } from "../../image/mix";
import { MaskField, type OtherSide } from "../mask/MaskField";
import { MaskOverlay } from "../mask/MaskOverlay";
import { MaskToolbar } from "../mask/MaskToolbar";
import { useMask } from "../mask/useMask";
import { BrushField } from "./BrushField";
import { ResultCache } from "./resultCache";
import { DownloadLink } from "./Stage";
import { shownOf, stageJob, wantedBoth } from "./twoSides";
import { BlendField, blendPartners } from "./BlendField";
import { FullSizeField, fullSizeOffer } from "./FullSizeField";
import { PhotoStep } from "./PhotoStep";
import { Stage } from "./Stage";
import { useMixedDownload } from "./useMixedDownload";
import { usePhoneLayout } from "./usePhoneLayout";
import { usePhotoDrop } from "./usePhotoDrop";
import { usePhotoIntake } from "./usePhotoIntake";
import { keyOf, labelOf, useStylizeJob, type StylizeInput } from "./useStylizeJob";
import { WhereField } from "./WhereField";

const NO_DEVICE = { state: "unavailable", reason: "on-device mode is off" } as const;
/** How long a pick waits for the next one before it is painted (a quick run of taps paints only the last). */
export const APPLY_DELAY_MS = 250;
/** After the first result, how long before the on-device runtime starts downloading in the background. */
const WARM_DEVICE_AFTER_MS = 1500;

export function usePhotoMode(props: ModeProps): ModeView {
  const { active, api, config, device, imageBackend, catalog, strength, keepColours, onNotice, stageRef } = props;
  const mixer = props.mixer ?? browserMixer;
  const { style, styles, gallery } = catalog;
  const [where, setWhere] = useState<Where>("auto");
  const [blendWith, setBlendWith] = useState<string | null>(null);
  const [share, setShare] = useState(0.5);
  const [fullSize, setFullSize] = useState(false);
  const [brush, setBrush] = useState(DEFAULT_BRUSH);
  const [otherSide, setOtherSide] = useState<OtherSide>("photo");
  const [otherStyleId, setOtherStyleId] = useState<string | null>(null);
  const [, setDeviceChecked] = useState(0);
  const fileInput = useRef<HTMLInputElement>(null);

  const partners = blendPartners(styles.items, style);
  const second = partners.find((p) => p.id === blendWith) ?? null;
  const blend = second ? { second, share } : null;
  // One cache for both sides, so that a style painted on one side shows at once on the other.
  const [cache] = useState(() => new ResultCache());
  const { job, stylize, cancel, reset, hasCached } = useStylizeJob(api, onNotice, device, cache);
  const otherJob = useStylizeJob(api, onNotice, device, cache);
  const resetOther = otherJob.reset;
  const resetBoth = useCallback(() => {
    reset();
    resetOther();
  }, [reset, resetOther]);
  const { photo, preparing, takeFile, takeGalleryImage } = usePhotoIntake(api, {
    maxSide: config.maxImageSide,
    imageBackend,
    onNotice,
    onAccept: resetBoth,
  });
  const mask = useMask(photo);
  const phone = usePhoneLayout();
  const otherStyles = (styles.items ?? []).filter((s) => s.id !== style?.id);
  const otherStyle = otherSide === "style" ? (otherStyles.find((s) => s.id === otherStyleId) ?? otherStyles[0] ?? null) : null;
  const dragging = usePhotoDrop(takeFile);
  const browse = useCallback(() => fileInput.current?.click(), []);

  // A deleted style leaves nothing behind: a blend with it is cleared, and when it was the picked one, the
  // picker goes back to the first style (useCatalog) with no blend.
  const pickedBefore = useRef<string | null>(null);
  useEffect(() => {
    const items = styles.items;
    if (!items) return;
    const gone = (id: string | null) => id !== null && !items.some((s) => s.id === id);
    if (gone(blendWith) || gone(pickedBefore.current)) setBlendWith(null);
    pickedBefore.current = style?.id ?? null;
  }, [styles.items, style, blendWith]);

  const offer = fullSizeOffer(photo, device, where);
  const wanted: StylizeInput | null =
    photo && style ? { photo, style, blend, keepColours, maxSize: config.maxImageSide, where, fullSize: fullSize && offer.available, brush } : null;
  // The other side's style is painted only where there is a mask to give it a side.
  const otherWanted: StylizeInput | null = wanted && otherStyle && mask.plane ? { ...wanted, style: otherStyle, blend: null } : null;
  const otherKey = otherWanted ? keyOf(otherWanted) : null;
  const latestOther = useRef(otherWanted);
  latestOther.current = otherWanted;
  const otherJobRef = useRef(otherJob.job);
  otherJobRef.current = otherJob.job;
  const wantedKey = wanted ? keyOf(wanted) : null;
  const latest = useRef(wanted);
  latest.current = wanted;
  const jobRef = useRef(job);
  jobRef.current = job;
  const timer = useRef<number | undefined>(undefined);

  const start = useCallback(
    (reveal: boolean, again = false) => {
      window.clearTimeout(timer.current);
      const input = latest.current;
      if (!input) return;
      if (reveal) revealStage(stageRef.current);
      void stylize(input, { again });
    },
    [stylize, stageRef],
  );

  // Apply on tap: a change of what the result answers paints it again, once the picks pause.
  const shownPhoto = useRef<string | null>(null);
  useEffect(() => {
    if (!active || !wantedKey) return;
    const current = jobRef.current;
    if ((current.state === "done" && current.result.key === wantedKey) || (current.state === "busy" && current.key === wantedKey)) return;
    const newPhoto = shownPhoto.current !== latest.current?.photo.previewUrl;
    shownPhoto.current = latest.current?.photo.previewUrl ?? null;
    timer.current = window.setTimeout(() => start(newPhoto), hasCached(wantedKey) ? 0 : APPLY_DELAY_MS);
    return () => window.clearTimeout(timer.current);
  }, [active, wantedKey, start, hasCached]);

  // The other side's style, applied the same way.
  const stylizeOther = otherJob.stylize;
  const hasOther = otherJob.hasCached;
  useEffect(() => {
    if (!active || !otherKey) return;
    const current = otherJobRef.current;
    if ((current.state === "done" && current.result.key === otherKey) || (current.state === "busy" && current.key === otherKey)) return;
    const later = window.setTimeout(() => latestOther.current && void stylizeOther(latestOther.current), hasOther(otherKey) ? 0 : APPLY_DELAY_MS);
    return () => window.clearTimeout(later);
  }, [active, otherKey, stylizeOther, hasOther]);

  // The on-device runtime downloads in the background after the first result, never before it.
  const hasResult = job.state === "done";
  useEffect(() => {
    if (!device || !hasResult || where === "server" || device.state.state !== "unknown") return;
    const later = window.setTimeout(() => void device.check().then(() => setDeviceChecked((n) => n + 1)), WARM_DEVICE_AFTER_MS);
    return () => window.clearTimeout(later);
  }, [device, hasResult, where]);

  const shown = shownOf(job);
  const otherShown = otherWanted ? shownOf(otherJob.job) : null;
  const download = useMixedDownload(shown, strength, mixer, photo?.name ?? "photo", { mask: mask.plane, otherSide: otherShown });
  const onStage = stageJob(job, otherWanted ? otherJob.job : null);
  const cancelOther = otherJob.cancel;
  const cancelBoth = useCallback(() => {
    cancel();
    cancelOther();
  }, [cancel, cancelOther]);

  const busy = onStage.state === "busy";
  const blocker = !photo ? "Choose a photo first." : !style ? "Pick a style." : null;
  const wantedName = style ? labelOf(style, blend) : "";
  const ranOn = job.state === "done" && job.result.key === wantedKey ? job.result.ranOn : null;

  return {
    stage: (
      <Stage
        photo={photo}
        preparing={preparing}
        job={onStage}
        wantedKey={wantedBoth(wantedKey, otherKey)}
        wantedName={otherWanted ? `${wantedName} / ${otherWanted.style.name}` : wantedName}
        strength={strength}
        download={download}
        masked={mask.plane !== null}
        downloadHere={!phone}
        maskLayer={mask.editing && photo ? <MaskOverlay editor={mask} /> : null}
        maskTools={mask.editing && photo ? <MaskToolbar editor={mask} otherSideName={otherStyle?.name ?? null} /> : null}
        coldStartHintMs={config.coldStartHintMs}
        onBrowse={browse}
        onCancel={cancelBoth}
      />
    ),
    source: (
      <PhotoStep
        photo={photo}
        preparing={preparing}
        ranOn={ranOn}
        gallery={gallery.items}
        galleryError={gallery.error}
        onFile={takeFile}
        onGalleryPick={takeGalleryImage}
        onRetryGallery={gallery.reload}
        inputRef={fileInput}
      />
    ),
    withStyle: (
      <>
        <BlendField style={style} partners={partners} secondId={second?.id ?? null} share={share} onSecond={setBlendWith} onShare={setShare} />
        <MaskField editor={mask} hasPhoto={photo !== null} otherSide={otherSide} onOtherSide={setOtherSide}
          otherStyles={otherStyles} otherStyleId={otherStyle?.id ?? null} onOtherStyle={setOtherStyleId} />
      </>
    ),
    setting: (
      <>
        <BrushField brush={brush} onBrush={setBrush} />
        <WhereField where={where} device={device?.state ?? NO_DEVICE} onWhere={setWhere} />
        <FullSizeField offer={offer} checked={fullSize && offer.available} onChange={setFullSize} />
      </>
    ),
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
      hint: busy && onStage.state === "busy"
        ? `Painting ${onStage.styleName}…`
        : preparing
          ? "Reading your photo…"
          : (blocker ?? (style ? `${wantedName}, ${Math.round(strength * 100)}%` : "")),
      disabled: !busy && (blocker !== null || preparing),
      busy,
      // On a phone the download sits here, in thumb's reach, rather than under the picture (styles.css).
      extra: shown && phone ? <DownloadLink download={download} testId="download-bar" className="action-bar__download" /> : undefined,
    },
    submit: () => (busy ? cancelBoth() : start(true, true)),
    always: (
      <>
        {/* For screen readers: the result arriving is otherwise silent (errors are role="alert"). */}
        <p className="visually-hidden" aria-live="polite" data-testid="announcer">
          {job.state === "done" && job.result.key === wantedKey
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
