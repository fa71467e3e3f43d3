import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import type { Notice } from "../../api/messages";
import type { Auth } from "../../auth/signin";
import type { OwnJob } from "../../api/jobs";
import type { NewStyle } from "../../api/types";
import { formatBytes } from "../../image/pipeline";
import { isActive, MAX_PAINTING_BYTES, type LossPoint, type OwnStyles as Own } from "./useOwnStyles";
import { Thumb } from "../../components/Thumb";
import { PlusIcon } from "../../components/icons";

interface Props {
  own: Own;
  /** The picked style's id, to mark the one in use. */
  selectedId: string | null;
  onUse(styleId: string): void;
  /** Signing in, where the stack's training routes want a user (AWS); none locally. */
  auth?: Auth;
}

// The file types POST /styles decodes (openapi.yaml's CreateStyleRequest); TIFF too, which the
// browser cannot show but the server reads.
export const PAINTING_TYPES = "image/jpeg,image/png,image/webp,image/gif,image/bmp,image/tiff";
const MAX_NAME = 60;

// "Add your own style": a painting and a name start a training job; each job shows its progress while it
// runs, and the finished ones are listed with Use and Delete. The panel is one <form> (Stylize), so these
// controls are buttons of type "button", and Enter in the name field starts training instead of stylizing.
export function OwnStylesStep({ own, selectedId, onUse, auth }: Props) {
  const { training, jobs } = own;
  const [adding, setAdding] = useState(false);
  if (training.state !== "on") {
    // Stacks without the training routes (AWS with TrainingEnabled off) show nothing; others say why.
    if (training.state === "checking" || isRoutesOff(training.reason)) return null;
    const signIn = auth && training.reason.code === "unauthorized";
    return (
      <section className="step" aria-labelledby="own-title">
        <OwnTitle />
        <p className="muted" data-testid="training-off">
          {signIn ? "Training your own style needs an account on this site: sign in, or sign up there." : `${training.reason.title}. ${training.reason.message}`}
        </p>
        {signIn && (
          <button type="button" className="button button--secondary" onClick={() => void auth.signIn()}>
            Sign in
          </button>
        )}
      </section>
    );
  }
  const user = auth?.user();
  const finished = jobs.filter((job) => job.state === "done");
  const stopped = jobs.filter((job) => job.state === "failed" || job.state === "cancelled");
  const row = (job: OwnJob) => (
    <OwnStyleRow key={job.id} job={job} selected={job.style !== null && job.style === selectedId} onUse={onUse} onRemove={() => own.remove(job)} />
  );
  return (
    <section className="step own" aria-labelledby="own-title">
      <OwnTitle />
      {user && (
        <p className="muted own__user" data-testid="signed-in">
          Signed in as {user.email ?? "you"} ·{" "}
          <button type="button" className="link-button" onClick={() => void auth!.signOut()}>
            Sign out
          </button>
        </p>
      )}
      {jobs.filter(isActive).map((job) => (
        <TrainingCard
          key={job.id}
          job={job}
          curve={own.losses[job.id] ?? []}
          pollError={own.pollError}
          onCancel={() => void own.cancel(job)}
          onFinish={own.finish && (() => void own.finish!(job))}
        />
      ))}
      {finished.length > 0 && (
        <ul className="own__list" aria-label="Your styles">
          {finished.map(row)}
        </ul>
      )}
      {/* Failed and cancelled jobs count against the quota until removed: kept at hand, folded away. */}
      {stopped.length > 0 && (
        <details className="own__stopped">
          <summary>
            {stopped.length} stopped {stopped.length === 1 ? "job" : "jobs"} (failed or cancelled)
          </summary>
          <ul className="own__list" aria-label="Stopped jobs">
            {stopped.map(row)}
          </ul>
        </details>
      )}
      {adding ? (
        <AddStyleForm
          starting={own.starting}
          onStart={async (style) => {
            const job = await own.start(style);
            if (job) setAdding(false);
          }}
          onClose={() => setAdding(false)}
        />
      ) : (
        <button type="button" className="button button--secondary own__add" onClick={() => setAdding(true)}>
          <PlusIcon /> Add your own style
        </button>
      )}
    </section>
  );
}

function OwnTitle() {
  return (
    <h2 className="step__title" id="own-title">
      Your own styles
    </h2>
  );
}

/** 404 not_found, or an answer from in front of the API: the routes are not part of this stack. */
function isRoutesOff(reason: Notice): boolean {
  return reason.code === "not_found" || reason.code === "unexpected_response" || reason.code === "method_not_allowed";
}

export function AddStyleForm({ starting, onStart, onClose }: { starting: boolean; onStart(style: NewStyle): Promise<void>; onClose(): void }) {
  const [painting, setPainting] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [previewUrl, setPreviewUrl] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const chooseButton = useRef<HTMLButtonElement>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const ids = useId();

  useEffect(() => () => void (previewUrl && URL.revokeObjectURL(previewUrl)), [previewUrl]);
  useEffect(() => chooseButton.current?.focus(), []); // opened by a button: the first thing to do is choose

  const choose = (file: File) => {
    if (file.size > MAX_PAINTING_BYTES) {
      setProblem(`“${file.name}” is ${formatBytes(file.size)}; a painting can be up to ${formatBytes(MAX_PAINTING_BYTES)}. Save a smaller copy (about 1000 pixels across is plenty) and choose that.`);
      return;
    }
    setProblem(null);
    setPainting(file);
    setPreviewUrl(URL.createObjectURL(file));
    setName((current) => current || nameFromFile(file.name));
  };
  useEffect(() => void (painting && nameInput.current?.focus()), [painting]); // next: check the name

  const blocker = !painting ? "Choose a painting." : !name.trim() ? "Give your style a name." : null;
  const submit = () => {
    if (blocker || starting || !painting) return;
    void onStart({ name: name.trim(), painting });
  };
  const onEnter = (event: KeyboardEvent) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // not the panel's Stylize
    submit();
  };

  return (
    <div className="own__form" role="group" aria-labelledby={`${ids}-title`} onKeyDown={(event) => event.key === "Escape" && onClose()}>
      <p className="own__form-title" id={`${ids}-title`}>
        Add your own style
      </p>
      <div className="own__painting">
        {previewUrl ? <img className="thumb" src={previewUrl} alt="" data-testid="painting-preview" /> : <span className="thumb own__blank" aria-hidden="true" />}
        <div className="own__painting-text">
          <input
            ref={fileInput}
            type="file"
            accept={PAINTING_TYPES}
            className="visually-hidden"
            tabIndex={-1}
            aria-label="Painting file"
            onChange={(event) => {
              const file = event.target.files?.[0];
              if (file) choose(file);
              event.target.value = ""; // the same file again still fires a change
            }}
          />
          <button ref={chooseButton} type="button" className="button button--quiet" onClick={() => fileInput.current?.click()}>
            {painting ? "Choose another painting" : "Choose a painting"}
          </button>
          <span className="field__hint">{painting ? `${painting.name}, ${formatBytes(painting.size)}` : "A JPEG, PNG, WebP, GIF, BMP or TIFF file."}</span>
        </div>
      </div>
      {problem && (
        <p className="inline-error" role="alert">
          {problem}
        </p>
      )}
      <div className="field">
        <label htmlFor={`${ids}-name`}>Name</label>
        <input
          ref={nameInput}
          id={`${ids}-name`}
          className="text-input"
          type="text"
          value={name}
          maxLength={MAX_NAME}
          autoComplete="off"
          onChange={(event) => setName(event.target.value)}
          onKeyDown={onEnter}
        />
        <p className="field__hint">Training runs on the server and takes a while; you can keep stylizing meanwhile.</p>
      </div>
      <div className="own__actions">
        <button type="button" className="button button--primary" disabled={blocker !== null || starting} aria-describedby={`${ids}-hint`} onClick={submit}>
          {starting ? "Uploading…" : "Start training"}
        </button>
        <button type="button" className="button button--quiet" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="field__hint" id={`${ids}-hint`} aria-live="polite">
        {starting ? "Sending the painting…" : blocker ?? ""}
      </p>
    </div>
  );
}

/** "My watercolour" from "my_watercolour.final.jpg". */
export function nameFromFile(fileName: string): string {
  const stem = fileName.replace(/\.[^.]+$/, "").replace(/[_.-]+/g, " ").trim();
  const name = stem.charAt(0).toUpperCase() + stem.slice(1);
  return name.slice(0, MAX_NAME);
}

interface TrainingCardProps {
  job: OwnJob;
  curve: LossPoint[];
  pollError: Notice | null;
  onCancel(): void;
  /** "Use it now"; null where the API has no such route. */
  onFinish: (() => void) | null;
}

export function TrainingCard({ job, curve, pollError, onCancel, onFinish }: TrainingCardProps) {
  const progress = job.progress;
  const stopping = job.cancelRequested;
  const finishing = !stopping && job.finishRequested === true;
  const status = stopping ? "Stopping…" : finishing ? "Finishing…" : job.state === "queued" ? "Waiting for the trainer" : "Training";
  const ids = useId();
  return (
    <article className="training" aria-labelledby={`${ids}-name`} data-testid="training-card" data-state={job.state} data-job-id={job.id}>
      <header className="training__head">
        <Thumb src={job.thumbnail} label={job.name} />
        <div>
          <p className="training__name" id={`${ids}-name`}>
            {job.name}
          </p>
          <p className="training__status" data-testid="training-status">
            {status}
            {progress && job.state === "running" && !stopping && !finishing && ` · ${timeLeft(progress.etaS)}`}
          </p>
        </div>
      </header>
      {progress && (
        <div className="training__progress">
          <progress max={progress.totalSteps} value={progress.step} aria-labelledby={`${ids}-step`} />
          <p className="training__step" id={`${ids}-step`} data-testid="training-step">
            Step {progress.step.toLocaleString("en")} of {progress.totalSteps.toLocaleString("en")}
          </p>
        </div>
      )}
      {progress?.losses && <Losses losses={progress.losses} curve={curve} />}
      {job.preview ? (
        <figure className="training__preview">
          <img src={job.preview.image} alt={`Preview at step ${job.preview.step}: a test photo next to it in the style being learned`} data-testid="training-preview" />
          <figcaption className="field__hint">Preview at step {job.preview.step}: the photo, and it in your style so far.</figcaption>
        </figure>
      ) : (
        <p className="field__hint">A preview appears after the first few steps.</p>
      )}
      {pollError && (
        <p className="inline-error" role="status">
          Lost touch with the server ({pollError.title.toLowerCase()}); still trying.
        </p>
      )}
      <TrainingActions job={job} stopping={stopping} finishing={finishing} onCancel={onCancel} onFinish={job.state === "running" ? onFinish : null} />
    </article>
  );
}

/** Whether a running job has saved something to use: unknown (an API that does not say) counts as yes, and the
 * server says if not. */
function hasCheckpoint(job: OwnJob): boolean {
  return job.checkpointStep !== null;
}

/** "Use it now" beside "Cancel training"; cancelling a running job asks first, since what it learned is lost. */
function TrainingActions({ job, stopping, finishing, onCancel, onFinish }: { job: OwnJob; stopping: boolean; finishing: boolean; onCancel(): void; onFinish: (() => void) | null }) {
  const [confirming, setConfirming] = useState(false);
  const ids = useId();
  const ready = hasCheckpoint(job);
  const finishHint = finishing
    ? "Saving what it has learned as your style; it is ready in a minute or two."
    : ready
      ? `Stops training and keeps what it has learned${job.checkpointStep ? ` (step ${job.checkpointStep.toLocaleString("en")} or later)` : " so far"} as your style.`
      : "Use it now is possible from its first checkpoint, about a minute in.";
  if (confirming && !stopping) {
    return (
      <div role="group" aria-labelledby={`${ids}-confirm`}>
        <p className="inline-error" id={`${ids}-confirm`} role="alert">
          Cancel “{job.name}”? What it has learned so far is lost.{onFinish && " To keep it as a style instead, choose Use it now."}
        </p>
        <div className="own__actions">
          <button type="button" className="button button--quiet button--danger" onClick={onCancel}>
            Discard and cancel
          </button>
          <button type="button" className="button button--quiet" onClick={() => setConfirming(false)}>
            Keep training
          </button>
          {onFinish && !finishing && (
            <button type="button" className="button button--secondary" onClick={onFinish} disabled={!ready}>
              Use it now
            </button>
          )}
        </div>
      </div>
    );
  }
  return (
    <>
      <div className="own__actions">
        {onFinish && !stopping && (
          <button type="button" className="button button--secondary" onClick={onFinish} disabled={finishing || !ready} aria-describedby={`${ids}-finish`}>
            {finishing ? "Finishing…" : "Use it now"}
          </button>
        )}
        <button type="button" className="button button--quiet" onClick={job.state === "running" ? () => setConfirming(true) : onCancel} disabled={stopping}>
          {stopping ? "Stopping…" : "Cancel training"}
        </button>
      </div>
      {onFinish && !stopping && (
        <p className="field__hint" id={`${ids}-finish`} data-testid="finish-hint">
          {finishHint}
        </p>
      )}
    </>
  );
}

const LOSS_NAMES: [string, string][] = [
  ["style", "Style"],
  ["content", "Content"],
  ["tv", "Smoothness"],
  ["total", "Total"],
];

function Losses({ losses, curve }: { losses: Record<string, number>; curve: LossPoint[] }) {
  return (
    <div className="training__losses">
      <dl className="losses" data-testid="training-losses">
        {LOSS_NAMES.filter(([key]) => typeof losses[key] === "number").map(([key, label]) => (
          <div key={key}>
            <dt>{label} loss</dt>
            <dd>{formatLoss(losses[key]!)}</dd>
          </div>
        ))}
      </dl>
      {curve.length >= 2 && <LossCurve curve={curve} />}
    </div>
  );
}

/** The total loss over the steps seen so far: a line that should go down. */
function LossCurve({ curve }: { curve: LossPoint[] }) {
  const width = 120;
  const height = 36;
  const steps = curve.map((p) => p.step);
  const values = curve.map((p) => Math.log(Math.max(p.total, 1e-9)));
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)];
  const [y0, y1] = [Math.min(...values), Math.max(...values)];
  const points = curve
    .map((_, i) => {
      const x = x1 === x0 ? 0 : ((steps[i]! - x0) / (x1 - x0)) * width;
      const y = y1 === y0 ? height / 2 : height - ((values[i]! - y0) / (y1 - y0)) * height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
  const first = curve[0]!.total;
  const last = curve[curve.length - 1]!.total;
  return (
    <svg className="losses__curve" viewBox={`-2 -2 ${width + 4} ${height + 4}`} role="img" aria-label={`Total loss from ${formatLoss(first)} to ${formatLoss(last)}`}>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}

export function formatLoss(value: number): string {
  if (!Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs >= 1e6 || (abs > 0 && abs < 0.01)) return value.toExponential(2);
  return value.toLocaleString("en", { maximumSignificantDigits: 3 });
}

/** "About 3 min left", from the API's estimate at the recent speed. */
export function timeLeft(etaS: number | null): string {
  if (etaS === null || !Number.isFinite(etaS)) return "estimating the time left";
  if (etaS < 60) return "less than a minute left";
  const minutes = Math.round(etaS / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `about ${hours} h${rest ? ` ${rest} min` : ""} left`;
}

function OwnStyleRow({ job, selected, onUse, onRemove }: { job: OwnJob; selected: boolean; onUse(id: string): void; onRemove(): Promise<boolean> }) {
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);
  const done = job.state === "done" && job.style !== null;
  const remove = async () => {
    setRemoving(true);
    const gone = await onRemove();
    if (!gone) {
      setRemoving(false);
      setConfirming(false);
    }
  };
  return (
    <li className="own__row" data-job-id={job.id} data-state={job.state}>
      <Thumb src={job.thumbnail} label={job.name} />
      <div className="own__row-text">
        <p className="own__row-name">{job.name}</p>
        <p className="field__hint">
          {done ? (selected ? "In use" : "Ready") : job.state === "failed" ? `Training failed${job.error ? `: ${job.error}` : ""}` : "Cancelled"}
          {done && job.finishedEarlyAtStep ? ` · finished early, at step ${job.finishedEarlyAtStep.toLocaleString("en")}` : ""}
        </p>
      </div>
      <div className="own__row-actions">
        {confirming ? (
          <>
            <button type="button" className="button button--quiet button--danger" onClick={() => void remove()} disabled={removing}>
              {removing ? "Deleting…" : `Delete “${job.name}”`}
            </button>
            <button type="button" className="button button--quiet" onClick={() => setConfirming(false)} disabled={removing}>
              Keep
            </button>
          </>
        ) : (
          <>
            {done && !selected && (
              <button type="button" className="button button--quiet" onClick={() => onUse(job.style!)} aria-label={`Use ${job.name}`}>
                Use
              </button>
            )}
            <button type="button" className="button button--quiet" onClick={() => setConfirming(true)} aria-label={`${done ? "Delete" : "Remove"} ${job.name}`}>
              {done ? "Delete" : "Remove"}
            </button>
          </>
        )}
      </div>
    </li>
  );
}
