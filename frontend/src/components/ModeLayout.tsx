// The page every mode is laid out on, and the contract between the app's shell and a mode. The shell keeps
// what the modes share (the message, the styles, your own styles, strength and colours) and one layout, so
// that switching modes keeps the shared controls (and the keyboard focus on the mode picker) where they are;
// a mode brings its stage, its own controls in their places, and its action.
import type { ReactNode, RefObject } from "react";
import type { Api } from "../api/client";
import type { Notice } from "../api/messages";
import type { AppConfig } from "../config";
import type { DeviceStylizer } from "../device/runner";
import type { Catalog } from "../hooks/useCatalog";
import type { Mixer } from "../image/mix";
import type { ImageBackend } from "../image/pipeline";

/** What the shell gives every mode. */
export interface ModeProps {
  /** Whether this mode is the one shown. Every mode keeps its state while another is shown (a photo and its
   * result wait while the camera runs); a mode releases what it holds (the camera) when it is not shown. */
  active: boolean;
  api: Api;
  config: AppConfig;
  /** Tests pass a fake; the browser's canvas is used otherwise. */
  imageBackend?: ImageBackend;
  /** Stylizing on this device (onnxruntime-web); without it everything goes to the server. */
  device?: DeviceStylizer;
  /** Mixes a result with its photo for a strength (the download); tests pass a fake, the browser's canvas otherwise. */
  mixer?: Mixer;
  /** The server's styles (the picked one among them) and gallery. */
  catalog: Catalog;
  strength: number;
  keepColours: boolean;
  onNotice(notice: Notice | null): void;
  /** The stage's column, for bringing it into view. */
  stageRef: RefObject<HTMLDivElement | null>;
}

/** What a mode shows: its parts of the page, and what the panel's action (its button, or Enter) does. */
export interface ModeView {
  /** The left column, under the messages. */
  stage: ReactNode;
  /** A message of the mode's own, above the shared one. */
  alert?: ReactNode;
  /** First in the panel, before the styles: what is stylized (the photo). */
  source?: ReactNode;
  /** Right after the styles: what goes with the picked style (a blend). */
  withStyle?: ReactNode;
  /** The mode's own setting, after strength and colours. */
  setting: ReactNode;
  /** `extra`: beside the action's button (the photo mode's Download, on a phone). */
  action: { label: ReactNode; hint: ReactNode; disabled: boolean; busy?: boolean; extra?: ReactNode };
  submit(): void;
  /** On the page whichever mode is shown (a photo dropped on the page is taken in any mode). */
  always?: ReactNode;
}

interface Props {
  view: ModeView;
  stageRef: RefObject<HTMLDivElement | null>;
  notice: ReactNode;
  modePicker: ReactNode;
  stylePicker: ReactNode;
  ownStyles: ReactNode;
  tune: ReactNode;
}

export function ModeLayout({ view, stageRef, notice, modePicker, stylePicker, ownStyles, tune }: Props) {
  const { action } = view;
  return (
    <main className="layout">
      <div className="layout__stage" ref={stageRef}>
        {view.alert}
        {notice}
        {view.stage}
      </div>

      <form
        className="layout__panel"
        aria-label="Stylize settings"
        onSubmit={(event) => {
          event.preventDefault();
          view.submit();
        }}
      >
        <div className="step">{modePicker}</div>
        {view.source}
        {stylePicker}
        {view.withStyle}
        {ownStyles}
        {tune}
        <div className="step">{view.setting}</div>
        <div className={`action-bar${action.extra ? " action-bar--extra" : ""}`}>
          <button
            type="submit"
            className={`button button--primary button--large${action.busy ? " button--busy" : ""}`}
            disabled={action.disabled}
            aria-describedby="action-hint"
          >
            {action.label}
          </button>
          {action.extra}
          <p className="action-bar__hint" id="action-hint" aria-live="polite">
            {action.hint}
          </p>
        </div>
      </form>
    </main>
  );
}
