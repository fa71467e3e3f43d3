// A small group of mutually exclusive choices as native radios (Tab in, arrow keys between them).

interface Props<T extends string> {
  name: string;
  legend: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange(value: T): void;
  hint?: React.ReactNode;
  disabled?: boolean;
}

export function Segmented<T extends string>({ name, legend, options, value, onChange, hint, disabled }: Props<T>) {
  return (
    <fieldset className="segmented" disabled={disabled} aria-describedby={hint ? `${name}-hint` : undefined}>
      <legend className="segmented__legend">{legend}</legend>
      <div className="segmented__options">
        {options.map((option) => (
          <label key={option.value} className="segmented__option">
            <input
              type="radio"
              name={name}
              value={option.value}
              checked={value === option.value}
              onChange={() => onChange(option.value)}
            />
            <span>{option.label}</span>
          </label>
        ))}
      </div>
      {hint && (
        <p className="field__hint" id={`${name}-hint`}>
          {hint}
        </p>
      )}
    </fieldset>
  );
}
