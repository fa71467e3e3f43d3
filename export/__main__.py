"""python -m export CHECKPOINT --out models/STYLE_ID.onnx [--name ... --artist ... --year ...] [--fp16] [--int8 ...]
[--halfres] [--steady CHECKPOINT]"""

import argparse
import logging
import sys

from .card import ExportError
from .parity import ParityError


def parse_size(text: str) -> tuple:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a size is WIDTHxHEIGHT, like 97x131") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes are positive")
    return height, width


def build_parser() -> argparse.ArgumentParser:
    from dataclasses import fields

    from .exporter import ExportRequest
    from .variants import INT8_DEFAULTS

    d = {f.name: f.default for f in fields(ExportRequest)}  # the defaults are written once, in ExportRequest
    p = argparse.ArgumentParser(
        prog="python -m export", description="Export a trained transformer network to ONNX, check it against "
        "PyTorch, and write its model card (STYLE_ID.json) beside it.")
    p.add_argument("checkpoint", help="a training checkpoint: runs/NAME/final.pth or runs/NAME/checkpoints/step_*.pth")
    p.add_argument("--out", required=True, help="models/STYLE_ID.onnx (the registry finds a style by its file name)")
    p.add_argument("--show", action="store_true", help="after exporting, print the file's ONNX metadata")
    meta = p.add_argument_group("what the product shows")
    meta.add_argument("--style-id", help="default: the --out file name (lower-case letters, digits, _ and -)")
    meta.add_argument("--name", help="display name, e.g. 'The Great Wave off Kanagawa' (default: from the id)")
    meta.add_argument("--artist", help="e.g. 'Katsushika Hokusai'")
    meta.add_argument("--year", help="e.g. 1831, or 'c. 1830-32'")
    meta.add_argument("--style-image", help="the painting, for the thumbnail (default: the one trained on)")
    meta.add_argument("--catalog", help="a multi-style network: a catalog JSON naming its styles "
                      "({'styles': [{'id', 'name', 'artist', 'year'}, ...]}, e.g. scripts/bundled_styles.json)")
    meta.add_argument("--join", metavar="BASE", help="a new style fine-tuned from BASE (its fp32 ONNX file or "
                      "checkpoint) with --finetune-new-styles: the file holds BASE's styles too, so that they blend")
    meta.add_argument("--style-license", default=d["style_license"],
                      help="the painting's licence, e.g. 'public domain' (default: unknown, with a warning)")
    meta.add_argument("--dataset-license", help="the training photos' licence note for the model card")
    meta.add_argument("--without-paths", action=argparse.BooleanOptionalAction, help="cut every path and URL in "
                      "the file's metadata and card to its last part (default: for a user's style, user-...)")
    var = p.add_argument_group("variants (each saved only when asked for, as STYLE_ID.fp16.onnx / .int8.onnx)")
    var.add_argument("--fp16", action="store_true", help="weights stored in float16 (half the file)")
    var.add_argument("--halfres", action="store_true", help="the full-resolution layers computed at half resolution "
                     "(export/halfres.py): the same network, faster on CPU")
    var.add_argument("--steady", metavar="CHECKPOINT", help="a second network with the same styles, trained to hold "
                     "still when the scene moves (the antialiased network): saved in its halfres layout as "
                     "STYLE_ID.steady.onnx, what the live camera and video use")
    var.add_argument("--int8", action="store_true", help="static QDQ int8 convolutions, calibrated on photos")
    var.add_argument("--calibration-photos", help="folder of photos for int8 calibration")
    var.add_argument("--calibration-count", type=int, default=INT8_DEFAULTS["calibration_count"],
                     help=f"photos used for calibration (default: {INT8_DEFAULTS['calibration_count']})")
    var.add_argument("--calibration-method", default=INT8_DEFAULTS["method"],
                     choices=["percentile", "minmax", "entropy"],
                     help=f"how activation ranges are set (default: {INT8_DEFAULTS['method']}, "
                          f"{INT8_DEFAULTS['percentile']})")
    var.add_argument("--reduce-range", action=argparse.BooleanOptionalAction, default=INT8_DEFAULTS["reduce_range"],
                     help="7-bit weights: avoids int16 saturation on x86 CPUs without VNNI (AVX2) (default: on)")
    var.add_argument("--eval-photos", help="folder of photos to judge variants on: PSNR vs fp32 and the content "
                     "and style losses of `training evaluate` (default: the calibration photos)")
    var.add_argument("--eval-size", type=int, default=d["eval_size"],
                     help=f"short side the evaluation photos are scaled to (default: {d['eval_size']})")
    var.add_argument("--vgg-weights", help="loss network for the variants' losses (default: the checkpoint's)")
    p.add_argument("--parity-sizes", type=parse_size, nargs="+", metavar="WxH",
                   help="sizes for the PyTorch parity check (default: 256x256 131x97 180x333 250x64 5x5 7x2 1x3)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .exporter import ExportRequest, describe, export_model  # torch loads here, after --help

    request = ExportRequest(
        checkpoint=args.checkpoint, out=args.out, style_id=args.style_id, name=args.name, artist=args.artist,
        year=args.year, style_image=args.style_image, style_license=args.style_license,
        dataset_license=args.dataset_license, fp16=args.fp16, int8=args.int8, halfres=args.halfres, steady=args.steady,
        calibration_photos=args.calibration_photos, eval_photos=args.eval_photos, eval_size=args.eval_size,
        vgg_weights=args.vgg_weights, catalog=args.catalog, join=args.join, without_paths=args.without_paths,
        int8_options={"calibration_count": args.calibration_count, "method": args.calibration_method,
                      "reduce_range": args.reduce_range})
    if args.parity_sizes:
        request.parity_sizes = tuple(args.parity_sizes)
    try:
        export_model(request)
    except (ExportError, ParityError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.show:
        print(describe(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
