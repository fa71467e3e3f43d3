import { ShareSlider } from "./ShareSlider";

interface Props {
  strength: number;
  keepColours: boolean;
  onStrength(value: number): void;
  onKeepColours(value: boolean): void;
}

export function TuneStep({ strength, keepColours, onStrength, onKeepColours }: Props) {
  const percent = Math.round(strength * 100);
  return (
    <section className="step" aria-labelledby="tune-step-title">
      <h2 className="step__title" id="tune-step-title">
        <span className="step__number" aria-hidden="true">3</span> Fine-tune
      </h2>
      <div className="field">
        <div className="field__row">
          <label htmlFor="strength">Strength</label>
          <output htmlFor="strength" className="field__value">
            {percent}%
          </output>
        </div>
        <ShareSlider id="strength" value={strength} valueText={`${percent}%`} describedBy="strength-hint"
          onChange={onStrength} />
        <p className="field__hint" id="strength-hint">
          How much of the painting to blend over your photo.
        </p>
      </div>
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={keepColours}
          aria-describedby="colours-hint"
          onChange={(event) => onKeepColours(event.target.checked)}
        />
        <span className="switch__track" aria-hidden="true">
          <span className="switch__thumb" />
        </span>
        <span className="switch__text">
          Keep original colours
          <span className="field__hint" id="colours-hint">
            Borrow the brushwork, keep your photo’s palette.
          </span>
        </span>
      </label>
    </section>
  );
}
