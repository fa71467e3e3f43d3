import { useId, useState } from "react";
import { boxStyle } from "./boxStyle";
import { DividerIcon } from "./icons";

interface Props {
  beforeUrl: string;
  afterUrl: string;
  beforeLabel: string;
  afterLabel: string;
  width: number;
  height: number;
  /** The after image over the before one at this opacity: `opacity * after + (1 - opacity) * before`, the strength's mix. */
  afterOpacity?: number;
  /** False while the after image is the previous result (dimmed, and not the current one for tests and readers). */
  current?: boolean;
}

// Before/after comparison: the stylized image on top, clipped at the divider, over the original.
// The control is a native range input stretched over the images, so dragging anywhere, clicking,
// touch, arrow keys, Page Up/Down and Home/End all work, and screen readers announce a slider.
export function CompareSlider({ beforeUrl, afterUrl, beforeLabel, afterLabel, width, height, afterOpacity = 1, current = true }: Props) {
  const [position, setPosition] = useState(50);
  const hintId = useId();
  return (
    <figure className="compare" style={boxStyle(width, height)}>
      <img className="compare__image" src={beforeUrl} alt={`${beforeLabel}: your photo`} draggable={false} />
      <img
        className="compare__image compare__image--after"
        src={afterUrl}
        alt={afterLabel}
        draggable={false}
        style={{ clipPath: `inset(0 0 0 ${position}%)`, opacity: afterOpacity }}
        data-testid="result-image"
        data-current={current}
      />
      <span className="compare__tag compare__tag--before" aria-hidden="true">
        {beforeLabel}
      </span>
      <span className="compare__tag compare__tag--after" aria-hidden="true">
        {afterLabel}
      </span>
      <input
        className="compare__range"
        type="range"
        min={0}
        max={100}
        step={1}
        value={position}
        onChange={(event) => setPosition(Number(event.target.value))}
        aria-label="Comparison divider"
        aria-valuetext={`${100 - position}% stylized, ${position}% original`}
        aria-describedby={hintId}
      />
      <span className="compare__handle" style={{ left: `${position}%` }} aria-hidden="true">
        <span className="compare__knob">
          <DividerIcon />
        </span>
      </span>
      <figcaption id={hintId} className="visually-hidden">
        Move the divider with the arrow keys to compare the original on the left with the stylized image on
        the right.
      </figcaption>
    </figure>
  );
}
