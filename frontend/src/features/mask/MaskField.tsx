import type { Style } from "../../api/types";
import { Segmented } from "../../components/Segmented";
import type { MaskEditor } from "./useMask";

export type OtherSide = "photo" | "style";

interface Props {
  editor: MaskEditor;
  hasPhoto: boolean;
  otherSide: OtherSide;
  onOtherSide(side: OtherSide): void;
  /** The styles the mask's other side can take (any but the picked one). */
  otherStyles: Style[];
  otherStyleId: string | null;
  onOtherStyle(id: string): void;
}

// Where the style goes: a mask painted over the picture (its tools sit under the picture while it is edited),
// and what the unpainted side shows: the photo, or a second style.
export function MaskField({ editor, hasPhoto, otherSide, onOtherSide, otherStyles, otherStyleId, onOtherStyle }: Props) {
  const status = !editor.plane ? "Everywhere (no mask)." : "Where you painted it.";
  return (
    <section className="step" aria-labelledby="mask-title">
      <h2 className="step__title" id="mask-title">Where the style goes</h2>
      <p className="field__hint" data-testid="mask-status">{status}</p>
      <button type="button" className="button button--secondary mask-field__toggle" aria-pressed={editor.editing}
        disabled={!hasPhoto} onClick={() => editor.setEditing(!editor.editing)}>
        Paint where the style goes
      </button>
      <Segmented name="other-side" legend="Other side" value={otherSide} onChange={onOtherSide}
        options={[{ value: "photo", label: "The photo" }, { value: "style", label: "A second style" }]}
        hint="What the unpainted part of the mask shows." />
      {otherSide === "style" && (
        <div className="field">
          <label htmlFor="other-style">Second style</label>
          <select id="other-style" className="select" value={otherStyleId ?? ""} onChange={(event) => onOtherStyle(event.target.value)}>
            {otherStyles.map((style) => (
              <option key={style.id} value={style.id}>{style.name}</option>
            ))}
          </select>
        </div>
      )}
    </section>
  );
}
