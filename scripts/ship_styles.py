"""Train, export and bundle the styles that ship with the project (scripts/bundled_styles.json).

    .venv/bin/python scripts/ship_styles.py great_wave starry_night --iterations 600
    .venv/bin/python scripts/ship_styles.py --all --export-only

For each style: `python -m training train` into runs/<id> (resuming if a run was interrupted, or
extending a finished run to more iterations), then `python -m export` into models/<id>.onnx with the
painting's metadata. Every setting used is recorded in the model card by the trainer and exporter.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from export.card import write_card  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
CATALOG = json.loads((ROOT / "scripts" / "bundled_styles.json").read_text())["styles"]
DATASET_LICENSE = ("trained on ../shared/assets/photos/train (ImageNet samples, BSDS500, Urban100, SUN; "
                   "research-use licences): for research and demonstration")


def latest_state(run: Path) -> tuple[int, Path | None]:
    """The furthest-trained state of a run: its final.pth or a later checkpoint (an extension cut short)."""
    found = [(torch.load(f, map_location="cpu", weights_only=False)["step"], f)
             for f in [run / "final.pth", *sorted((run / "checkpoints").glob("step_*.pth"))[-1:]] if f.exists()]
    return max(found, key=lambda pair: pair[0]) if found else (0, None)


def train(style: dict, args) -> Path:
    run = ROOT / "runs" / style["id"]
    done, state = latest_state(run)
    if done >= args.iterations and state == run / "final.pth":
        print(f"{style['id']}: already trained ({done} steps)")
        return run / "final.pth"
    command = [sys.executable, "-m", "training", "train", "--dataset", str(args.dataset),
               "--style-image", str(SHARED / "styles" / style["file"]), "--out", str(run),
               "--iterations", str(args.iterations), "--batch-size", str(args.batch_size),
               "--image-size", str(args.image_size), "--style-size", str(args.style_size),
               "--vgg-weights", str(args.vgg_weights), "--precision", args.precision,
               "--workers", str(args.workers), "--sample-every", "100",
               "--checkpoint-every", "50", "--sample-images", *args.sample_images]
    if args.compile:
        command.append("--compile")
    if state:
        # Resume from where the run got furthest: its last checkpoint, or a finished run's final state.
        command += ["--resume", str(state)]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    return run / "final.pth"


def export(style: dict, checkpoint: Path, args):
    command = [sys.executable, "-m", "export", str(checkpoint), "--out", str(ROOT / "models" / f"{style['id']}.onnx"),
               "--style-id", style["id"], "--name", style["name"], "--artist", style["artist"],
               "--year", style["year"], "--style-license", "public domain",
               "--style-image", str(SHARED / "styles" / style["file"]), "--dataset-license", DATASET_LICENSE,
               *args.export_args]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def bundle(style: dict, keep: list):
    """Leave only the variants that ship. Each variant's measurements stay in the card, marked unbundled:
    e.g. fp16 holds quality but runs at fp32 speed on CPU, and the Lambda's 250 MB are shared by every style."""
    card_path = ROOT / "models" / f"{style['id']}.json"
    card = json.loads(card_path.read_text())
    for variant, entry in card.get("variants", {}).items():
        entry["bundled"] = variant in keep
        if not entry["bundled"]:
            (ROOT / "models" / f"{style['id']}.{variant}.onnx").unlink(missing_ok=True)
    write_card(card, card_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("styles", nargs="*", help="style ids from scripts/bundled_styles.json")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--iterations", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--style-size", type=int, default=512)
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--precision", choices=("off", "bf16", "fp16"), default="off",
                        help="bf16 on a GPU or a CPU with native bf16; off on this project's AVX2 CPU")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--dataset", default=str(SHARED / "photos" / "train"))
    parser.add_argument("--vgg-weights", default=str(ROOT / "weights" / "vgg16-caffe.pth"))
    parser.add_argument("--sample-images", nargs="*", default=[
        str(SHARED / "photos" / "val" / name) for name in
        ("bsds_100007.jpg", "bsds_101027.jpg", "bsds_103006.jpg", "bsds_104010.jpg")])
    parser.add_argument("--export-only", action="store_true", help="export existing runs, train nothing")
    parser.add_argument("--bundle-variants", nargs="*", default=["int8"],
                        help="variants kept in models/ beside the fp32 model (default: int8, which is served)")
    parser.add_argument("--export-args", nargs=argparse.REMAINDER, default=[],
                        help="passed to python -m export (put last)")
    args = parser.parse_args()
    by_id = {s["id"]: s for s in CATALOG}
    ids = list(by_id) if args.all else args.styles
    unknown = [i for i in ids if i not in by_id]
    if unknown or not ids:
        parser.error(f"unknown style ids {unknown}; choose from {', '.join(by_id)}" if unknown else "name styles")
    for style_id in ids:
        style = by_id[style_id]
        checkpoint = ROOT / "runs" / style_id / "final.pth" if args.export_only else train(style, args)
        export(style, checkpoint, args)
        bundle(style, args.bundle_variants)


if __name__ == "__main__":
    main()
