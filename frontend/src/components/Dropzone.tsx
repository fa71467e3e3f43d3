import type { ReactNode } from "react";

interface Props {
  onBrowse(): void;
  /** What to drop, for a pointer ("Drop a photo here") and for a touch screen ("Tap to choose a photo"). */
  title: { pointer: string; touch: string };
  /** The line under the title, for each. */
  text: { pointer: ReactNode; touch: ReactNode };
  /** What it takes, in small print. */
  small: string;
}

/** An empty stage's drop target, which is also the button that opens the file picker. Touch screens cannot drop
 * or paste easily: they get "tap" wording (see .for-touch). */
export function Dropzone({ onBrowse, title, text, small }: Props) {
  return (
    <div className="stage stage--empty">
      <button type="button" className="dropzone" onClick={onBrowse}>
        <span className="dropzone__art" aria-hidden="true">
          <span />
          <span />
          <span />
        </span>
        <span className="dropzone__title">
          <span className="for-pointer">{title.pointer}</span>
          <span className="for-touch">{title.touch}</span>
        </span>
        <span className="dropzone__text for-pointer">{text.pointer}</span>
        <span className="dropzone__text for-touch">{text.touch}</span>
        <span className="dropzone__small">{small}</span>
      </button>
    </div>
  );
}
