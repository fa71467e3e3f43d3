import { BRUSH_STOPS, BRUSH_WORKING_SIDE } from "../../image/brush";

interface Props {
  brush: number;
  onBrush(brush: number): void;
}

/** "1×", "0.5×": a brush as a multiple of the default's strokes. */
export function brushText(brush: number): string {
  return `${brush}×`;
}

// The size of the strokes relative to the picture (the API's brush): a slider over the offered stops, so that
// its steps are even on a log scale (0.125 to 4 is five doublings). A change paints again, like a style.
export function BrushField({ brush, onBrush }: Props) {
  const index = Math.max(0, BRUSH_STOPS.findIndex((stop) => stop >= brush));
  const text = brushText(BRUSH_STOPS[index]!);
  return (
    <div className="field brush-field">
      <div className="field__row">
        <label htmlFor="brush">Brush size</label>
        <output htmlFor="brush" className="field__value" data-testid="brush-value">
          {text}
        </output>
      </div>
      <input
        id="brush"
        className="slider"
        type="range"
        min={0}
        max={BRUSH_STOPS.length - 1}
        step={1}
        value={index}
        aria-valuetext={`${text}${brush === 1 ? ", the default" : brush < 1 ? ", finer strokes" : ", broader strokes"}`}
        aria-describedby="brush-hint"
        style={{ ["--fill" as string]: `${(index / (BRUSH_STOPS.length - 1)) * 100}%` }}
        onChange={(event) => onBrush(BRUSH_STOPS[Number(event.target.value)]!)}
      />
      <p className="field__hint" id="brush-hint">
        The size of the strokes relative to the picture: 1× paints any size like its {BRUSH_WORKING_SIDE} px preview;
        smaller is finer, larger is broader.
      </p>
    </div>
  );
}
