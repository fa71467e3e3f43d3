interface Props {
  id: string;
  /** 0..1, shown and stepped in 5% steps. */
  value: number;
  /** What a screen reader says for the value, e.g. "70% The Great Wave, 30% Udnie". */
  valueText: string;
  describedBy?: string;
  onChange(value: number): void;
}

/** A 0-100% range input in 5% steps, its track filled up to the value (strength, a blend's mix). */
export function ShareSlider({ id, value, valueText, describedBy, onChange }: Props) {
  const percent = Math.round(value * 100);
  return (
    <input
      id={id}
      className="slider"
      type="range"
      min={0}
      max={100}
      step={5}
      value={percent}
      aria-valuetext={valueText}
      aria-describedby={describedBy}
      style={{ ["--fill" as string]: `${percent}%` }}
      onChange={(event) => onChange(Number(event.target.value) / 100)}
    />
  );
}
