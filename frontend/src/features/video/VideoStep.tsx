import type { RefObject } from "react";
import { UploadIcon } from "../../components/icons";
import { acceptOf, formatDuration, formatMegabytes, limitsHint, type Clip } from "./clip";
import type { ClipIntake } from "./useClipIntake";
import type { Limits } from "./useVideoLimits";

interface Props {
  limits: Limits;
  intake: ClipIntake;
  /** A video is being sent or stylized: the clip stays until it is over. */
  locked: boolean;
  inputRef: RefObject<HTMLInputElement | null>;
}

/** The panel's first step in the video mode: the clip, with every limit said before it is chosen. */
export function VideoStep({ limits, intake, locked, inputRef }: Props) {
  const { clip, checking, refusal } = intake;
  return (
    <section className="step" aria-labelledby="video-step-title">
      <h2 className="step__title" id="video-step-title">
        <span className="step__number" aria-hidden="true">1</span> Choose a clip
      </h2>
      <div className="upload-row">
        <input
          ref={inputRef}
          id="video-input"
          type="file"
          accept={acceptOf(limits.limits)}
          className="visually-hidden"
          tabIndex={-1}
          aria-label="Video file"
          aria-describedby="video-limits"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) void intake.take(file);
            event.target.value = ""; // picking the same file again still fires a change
          }}
        />
        <button type="button" className="button button--secondary upload-button" aria-busy={checking}
          disabled={!limits.limits || locked} onClick={() => inputRef.current?.click()}>
          <UploadIcon /> {clip ? "Choose another clip" : "Choose a clip"}
        </button>
        <span className="upload-row__hint for-pointer">or drop one anywhere</span>
      </div>
      <LimitsHint limits={limits} />
      {checking && <p className="field__hint">Reading the clip…</p>}
      {refusal && (
        <p className="inline-error" role="alert" data-testid="clip-refusal">
          {refusal} Nothing was uploaded.
        </p>
      )}
      {clip && <ClipFacts clip={clip} />}
    </section>
  );
}

function LimitsHint({ limits }: { limits: Limits }) {
  if (limits.error) {
    return (
      <div className="inline-error" role="alert" id="video-limits">
        <p>Videos can’t be stylized here now. {limits.error}</p>
        <button type="button" className="button button--quiet" onClick={limits.reload}>
          Try again
        </button>
      </div>
    );
  }
  return (
    <p className="field__hint" id="video-limits" data-testid="video-limits">
      {limits.limits ? limitsHint(limits.limits) : "Reading the limits…"}
    </p>
  );
}

function ClipFacts({ clip }: { clip: Clip }) {
  const { facts } = clip;
  return (
    <p className="sent-size" data-testid="clip-facts">
      <span className="sent-size__name">{clip.file.name}</span>
      {facts ? `${formatDuration(facts.durationS)}, ${facts.width} × ${facts.height}, ` : ""}
      {formatMegabytes(clip.file.size)}
      {!facts && <span className="muted"> (this browser can’t play it; the server checks its length)</span>}
    </p>
  );
}
