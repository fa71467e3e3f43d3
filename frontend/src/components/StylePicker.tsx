import type { Style } from "../api/types";
import { Thumb } from "./Thumb";

interface Props {
  styles: Style[] | null;
  error: string | null;
  selectedId: string | null;
  onSelect(id: string): void;
  onRetry(): void;
}

// Native radio buttons (visually hidden) keep the picker keyboard-operable for free: Tab into the
// group, arrow keys move between styles, and screen readers announce "n of m".
export function StylePicker({ styles, error, selectedId, onSelect, onRetry }: Props) {
  return (
    <fieldset className="step step--styles" aria-busy={styles === null && !error}>
      <legend className="step__title">
        <span className="step__number" aria-hidden="true">2</span> Pick a style
      </legend>
      {error ? (
        <div className="inline-error" role="alert">
          <p>{error}</p>
          <button type="button" className="button button--quiet" onClick={onRetry}>
            Try again
          </button>
        </div>
      ) : styles === null ? (
        <div className="style-grid" aria-hidden="true">
          {Array.from({ length: 6 }, (_, i) => (
            <div key={i} className="style-card style-card--placeholder">
              <span className="thumb skeleton" />
              <span className="skeleton skeleton--line" />
              <span className="skeleton skeleton--line skeleton--short" />
            </div>
          ))}
        </div>
      ) : styles.length === 0 ? (
        <p className="muted">No styles are installed on this server yet.</p>
      ) : (
        <div className="style-grid">
          {styles.map((style) => (
            <label key={style.id} className={`style-card${style.ownJobId ? " style-card--own" : ""}`} data-style-id={style.id}>
              <input
                type="radio"
                name="style"
                value={style.id}
                className="visually-hidden"
                checked={selectedId === style.id}
                onChange={() => onSelect(style.id)}
              />
              <Thumb src={style.thumbnail} label={style.name} />
              {style.ownJobId && (
                <span className="style-card__badge" aria-hidden="true">
                  Yours
                </span>
              )}
              <span className="style-card__name">{style.name}</span>
              <span className="style-card__artist">
                {style.artist}
                {style.year ? `, ${style.year}` : ""}
              </span>
            </label>
          ))}
        </div>
      )}
    </fieldset>
  );
}
