import { Segmented } from "../../components/Segmented";
import type { MaskTool } from "./maskPlane";
import { MASK_BRUSH_RANGE, type MaskEditor } from "./useMask";

const TOOLS = [
  { value: "paint", label: "Paint the style" },
  { value: "erase", label: "Erase to the photo" },
] as const satisfies readonly { value: MaskTool; label: string }[];

// The mask's tools, under the picture while it is edited: every one a native control (keyboard, screen readers).
export function MaskToolbar({ editor, otherSideName }: { editor: MaskEditor; otherSideName: string | null }) {
  const [low, high] = MASK_BRUSH_RANGE;
  const percent = Math.round(editor.brushSize * 100);
  const eraseLabel = otherSideName ? `Erase to ${otherSideName}` : "Erase to the photo";
  return (
    <div className="mask-toolbar" role="group" aria-label="Mask tools" data-testid="mask-toolbar">
      <Segmented name="mask-tool" legend="Tool" value={editor.tool} onChange={editor.setTool}
        options={TOOLS.map((tool) => (tool.value === "erase" ? { ...tool, label: eraseLabel } : tool))} />
      <div className="field mask-toolbar__size">
        <div className="field__row">
          <label htmlFor="mask-brush">Mask brush</label>
          <output htmlFor="mask-brush" className="field__value">{percent}%</output>
        </div>
        <input id="mask-brush" className="slider" type="range" min={low * 100} max={high * 100} step={1} value={percent}
          aria-valuetext={`${percent}% of the picture`}
          style={{ ["--fill" as string]: `${((percent - low * 100) / (high * 100 - low * 100)) * 100}%` }}
          onChange={(event) => editor.setBrushSize(Number(event.target.value) / 100)} />
      </div>
      <div className="mask-toolbar__buttons">
        <button type="button" className="button button--quiet" onClick={editor.invert}>Invert</button>
        <button type="button" className="button button--quiet" onClick={editor.clear} disabled={!editor.plane}
          title="Remove the mask: the style everywhere">Clear</button>
        <button type="button" className="button button--secondary" onClick={() => editor.setEditing(false)}>Done</button>
      </div>
    </div>
  );
}
