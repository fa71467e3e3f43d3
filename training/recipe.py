"""The training recipe: every setting of a run, its defaults, the checks that need no data, and the one way to
write it as the trainer's command line and read it back.

Torch-free, so that whatever launches a run imports it without PyTorch: scripts/ship_styles.py, the in-job
entry (training/job.py) and `python -m training train` itself, whose options are built from OPTIONS below.
A config written by `arguments()` and read by `parse()` is the same config.
"""

import argparse
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

PRECISIONS = ("off", "bf16", "fp16", "auto")
PER_STYLE = ("style_weight", "tv_weight", "tv_abs_weight")  # one weight, or one per style


@dataclass
class TrainConfig:
    """Every setting of a run; `python -m training train --help` takes its defaults from here. A checkpoint
    saves it as a dict (`asdict`) under "config": a resume reads those keys back, so they keep their names."""

    dataset: str
    style_images: list  # one painting per style; a multi-style network for two or more
    out: str
    style_ids: list | None = None  # default: the paintings' file names without extension
    iterations: int | None = None  # optimizer steps; or give epochs
    epochs: float | None = None
    batch_size: int = 4
    image_size: int = 256
    style_size: int | None = 512  # long side of the style image; None keeps it as it is
    width: int = 32  # model.TABLE_1_WIDTH: Table 1; 16: half width (c9s1-16, d32, d64, R64 x5, u32, u16, c9s1-3)
    antialias: bool = False  # low-pass before each stride of 2, interpolating upsampling: no 4-px lattice (model.py)
    detail: bool = False  # a full-resolution path from the first layer to the last, for fine strokes (model.py)
    lr: float = 1e-3
    content_weight: float | None = None  # None: DEFAULT_WEIGHTS for the loss network's preprocessing
    style_weight: float | list | None = None  # one weight, or one per style
    tv_weight: float | list | None = None  # one weight, or one per style
    tv_abs_weight: float | list = 0.0  # the quality kit's absolute TV (losses.tv_abs_loss): one, or one per style
    style_share: list | None = None  # how often each style is drawn, relative, one per style; None: equally
    content_layer: str = "relu2_2"
    vgg_weights: str = "torchvision"
    init_from: str | None = None  # weights only (a checkpoint or an fp32 ONNX file), fresh optimizer
    finetune_new_styles: bool = False  # train only the new styles' gammas and betas, everything else frozen
    teacher: str | None = None  # a trained network (checkpoint or fp32 ONNX) whose outputs this one also matches
    teacher_weight: float = 0.0  # weight of the mean squared difference to the teacher's output (0..255)
    teacher_features_weight: float = 0.0  # and of the loss network's features (the style layers, summed)
    shift_weight: float = 0.0  # temporal stability: a moved, noisy photo must give the moved output (stability.py)
    shift_noise: float = 2.0  # the moved frame's sensor noise, standard deviation on 0..255
    precision: str = "off"  # off | bf16 | fp16 | auto (bf16 where the hardware has it, else off)
    channels_last: bool = True
    compile: bool = False
    device: str = "auto"
    seed: int = 42
    workers: int = 2
    log_every: int = 10
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    sample_every: int = 200
    sample_images: list = field(default_factory=list)  # files or folders; default: 4 dataset photos
    sample_size: int = 384
    resume: str | None = None  # a checkpoint path, or "latest" in out/checkpoints

    def __post_init__(self):
        if isinstance(self.style_images, str | Path):
            self.style_images = [self.style_images]
        self.style_images = [str(p) for p in self.style_images]
        self.style_ids = list(self.style_ids or [Path(p).stem for p in self.style_images])

    def total_steps(self, batches_per_epoch: int) -> int:
        if self.iterations:
            return self.iterations
        if self.epochs:
            return max(1, math.ceil(self.epochs * batches_per_epoch))
        raise ValueError("give --iterations or --epochs")


# the one place the defaults are written
DEFAULTS = {f.name: f.default_factory() if callable(f.default_factory) else f.default for f in fields(TrainConfig)}

# ------------------------------------------------------------------------------------ the options

# Each setting's command-line spelling: argparse's keywords, with "flags" when the flag is not --the-name.
# The defaults come from TrainConfig; "dataset", "style_images" and "out" are always written.
OPTIONS = {
    "dataset": dict(help="folder of photos, searched recursively (e.g. COCO train2014)"),
    "style_images": dict(flags=("--style-image", "--style-images"), nargs="+",
                         help="one painting per style; two or more train one multi-style network"),
    "style_ids": dict(nargs="+", help="default: the paintings' file names (or the catalog's ids)"),
    "out": dict(help="run folder: checkpoints, samples, metrics.jsonl, final.pth"),
    "iterations": dict(type=int, help="optimizer steps"),
    "epochs": dict(type=float, help="passes over the dataset"),
    "batch_size": dict(type=int, help="per process"),
    "image_size": dict(type=int, help="training crops are this square"),
    "style_size": dict(type=int, help="long side of the style image (0: as it is)"),
    "width": dict(type=int, help="channels of the first layer: 32 as in Table 1, 16 for the half-width network"),
    "antialias": dict(action=argparse.BooleanOptionalAction,
                      help="low-pass filter before each stride of 2 and bilinear upsampling, so that the strokes do "
                           "not snap to a 4-pixel lattice and jump when the picture moves (video, the live camera)"),
    "detail": dict(action=argparse.BooleanOptionalAction,
                   help="a full-resolution path from the first layer's features to the output layer, starting at "
                        "zero: fine strokes that move with the picture, for the antialiased network"),
    "lr": dict(type=float),
    "content_weight": dict(type=float, help="default: by the VGG weights' preprocessing"),
    "style_weight": dict(type=float, nargs="+",
                         help="one weight, or one per style; default: by the VGG weights' preprocessing"),
    "tv_weight": dict(type=float, nargs="+",
                      help="one weight, or one per style; default: by the VGG weights' preprocessing"),
    "tv_abs_weight": dict(type=float, nargs="+",
                          help="weight of the quality kit's TV (mean absolute neighbour difference, 0..255), added "
                               "to the squared TV above: one weight, or one per style; default 0 (off)"),
    "teacher": dict(help="a trained network (checkpoint or fp32 ONNX, the same styles) whose outputs this one "
                         "learns to match too: distilling a wider network into a narrower"),
    "teacher_weight": dict(type=float, help="weight of the mean squared difference to the teacher's output, on "
                                            "0..255"),
    "teacher_features_weight": dict(type=float,
                                    help="weight of the mean squared difference of the loss network's features "
                                         "(the style layers, summed) to the teacher output's: copies its strokes "
                                         "rather than a blur of them"),
    "shift_weight": dict(type=float, help="temporal stability: weight of the difference between the output of the "
                                          "photos moved by 1 to 3 px (with sensor noise) and the moved output "
                                          "(0..255, mean squared); 0: off"),
    "shift_noise": dict(type=float, help="sensor noise of the moved frames, standard deviation on 0..255"),
    "style_share": dict(type=float, nargs="+",
                        help="how often each style is drawn, relative, one per style (e.g. 2 for a style the shared "
                             "layers shortchange); default: all equally"),
    "content_layer": dict(help="relu2_2 as in the paper; relu3_3 as in Johnson's code"),
    "vgg_weights": dict(help="'torchvision' (IMAGENET1K_V1, downloaded), a file from convert-vgg, or 'random' "
                             "(tests)"),
    "init_from": dict(help="start from these weights (a checkpoint, or an fp32 multi-style ONNX file), with a "
                           "fresh optimizer; styles it lacks are added"),
    "finetune_new_styles": dict(action="store_true", help="train only the new styles' instance-norm scales and "
                                                          "shifts; everything else is frozen"),
    "precision": dict(choices=PRECISIONS, help="autocast; Gram matrices stay float32. bf16 needs hardware support "
                                               "to be fast; auto: bf16 where the GPU or CPU (AMX, AVX512-BF16) has "
                                               "it, else off"),
    "channels_last": dict(action=argparse.BooleanOptionalAction),
    "compile": dict(action="store_true", help="torch.compile the transformer network"),
    "device": dict(choices=["auto", "cpu", "cuda"]),
    "seed": dict(type=int),
    "workers": dict(type=int, help="data loader processes"),
    "log_every": dict(type=int),
    "checkpoint_every": dict(type=int),
    "keep_checkpoints": dict(type=int),
    "sample_every": dict(type=int),
    "sample_images": dict(nargs="*", help="photos or folders to stylize every --sample-every"),
    "sample_size": dict(type=int),
    "resume": dict(nargs="?", const="latest", help="a checkpoint, or the latest in --out"),
}
REQUIRED = ("dataset", "style_images", "out")
assert set(OPTIONS) == set(DEFAULTS), "every setting has its command-line option"


def flag(name: str) -> str:
    return OPTIONS[name].get("flags", (f"--{name.replace('_', '-')}",))[0]


def add_option(parser, name: str, default=None, **extra):
    """One setting's option on `parser` (a parser or an argument group)."""
    spec = {k: v for k, v in OPTIONS[name].items() if k != "flags"}
    flags = OPTIONS[name].get("flags", (flag(name),))
    return parser.add_argument(*flags, dest=name, default=default, **spec, **extra)


def add_train_options(parser, layer_names=()):
    """`python -m training train`'s options: every setting, with TrainConfig's defaults; the paintings given one
    by one or as a catalog, the length as steps or epochs. layer_names: the content layer's choices."""
    add_option(parser, "dataset", required=True)
    styles = parser.add_mutually_exclusive_group(required=True)
    add_option(styles, "style_images")
    styles.add_argument("--catalog", help="a JSON catalog ({'styles': [{'id', 'file'}, ...]}, files relative to "
                                          "--styles-dir) instead of --style-image")
    parser.add_argument("--styles-dir", help="where the catalog's files are (default: the catalog's folder)")
    add_option(parser, "style_ids")
    add_option(parser, "out", required=True)
    length = parser.add_mutually_exclusive_group(required=True)
    for name in ("iterations", "epochs"):
        add_option(length, name)
    for name in OPTIONS:
        if name not in (*REQUIRED, "style_ids", "iterations", "epochs"):
            default = [DEFAULTS[name]] if name in PER_STYLE and DEFAULTS[name] is not None else DEFAULTS[name]
            extra = {"choices": layer_names} if name == "content_layer" and layer_names else {}
            add_option(parser, name, [] if name == "sample_images" else default, **extra)
    return parser


def read_catalog(path, styles_dir=None) -> tuple[list, list]:
    """(style images, style ids) of a catalog file such as scripts/bundled_styles.json."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"catalog not found: {path}")
    entries = json.loads(path.read_text())["styles"]
    folder = Path(styles_dir) if styles_dir else path.parent
    return [str(folder / e["file"]) for e in entries], [e["id"] for e in entries]


def settings_of(args, names=None) -> dict:
    """The settings given on a command line (parsed args), as TrainConfig takes them: a single per-style weight is
    one weight, a style size of 0 keeps the painting as it is. names: only these (None: every one given)."""
    given = {k: v for k, v in vars(args).items() if k in OPTIONS and (names is None or k in names)}
    if names is not None:
        given = {k: v for k, v in given.items() if v is not None}
    for name in PER_STYLE:
        if isinstance(given.get(name), list) and len(given[name]) == 1:
            given[name] = given[name][0]
    if "style_size" in given:
        given["style_size"] = given["style_size"] or None
    return given


def config_from_args(args) -> TrainConfig:
    """The TrainConfig of `python -m training train`'s parsed arguments (a catalog read into its paintings)."""
    if getattr(args, "catalog", None):
        args.style_images, catalog_ids = read_catalog(args.catalog, args.styles_dir)
        args.style_ids = args.style_ids or catalog_ids
    return TrainConfig(**settings_of(args))


def arguments(config: TrainConfig) -> list:
    """The trainer's command line (after `python -m training train`) for this config: the paintings, the run
    folder, and every setting that differs from its default."""
    default_ids = [Path(p).stem for p in config.style_images]
    words = []
    for name, spec in OPTIONS.items():
        value = getattr(config, name)
        if name not in REQUIRED and (value == DEFAULTS[name] or (name == "style_ids" and value == default_ids)):
            continue
        if value is None and name != "style_size":
            continue
        action, nargs = spec.get("action"), spec.get("nargs")
        if action == "store_true":
            words.append(flag(name))
        elif action is argparse.BooleanOptionalAction:
            words.append(flag(name) if value else f"--no-{flag(name)[2:]}")
        elif nargs in ("+", "*"):
            words += [flag(name), *map(str, value if isinstance(value, list | tuple) else [value])]
        else:
            words += [flag(name), str(0 if value is None else value)]  # style size 0: the painting as it is
    return words


def parse(words: list) -> TrainConfig:
    """The TrainConfig a trainer command line (arguments()'s words) asks for."""
    parser = argparse.ArgumentParser(prog="python -m training train")
    return config_from_args(add_train_options(parser).parse_args(words))


# ------------------------------------------------------------------------------ checks

def check(config: TrainConfig):
    """The checks that need neither the data nor PyTorch: impossible settings fail before any work starts."""
    if len(set(config.style_ids)) != len(config.style_images):
        raise ValueError(f"one distinct style id per style image: {config.style_ids}")
    for name in PER_STYLE:
        weight = getattr(config, name)
        if isinstance(weight, list) and len(weight) not in (1, len(config.style_images)):
            raise ValueError(f"{flag(name)}: one weight, or one per style ({len(config.style_images)})")
    if config.style_share is not None and (len(config.style_share) != len(config.style_images)
                                           or min(config.style_share) <= 0):
        raise ValueError(f"--style-share: one positive share per style ({len(config.style_images)})")
    if config.precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}")
    if not config.iterations and not config.epochs:
        raise ValueError("give --iterations or --epochs")
    if (config.teacher is None) != (config.teacher_weight == 0 and config.teacher_features_weight == 0):
        raise ValueError("--teacher and --teacher-weight (or --teacher-features-weight) go together")
    if config.shift_weight < 0 or config.shift_noise < 0:
        raise ValueError("--shift-weight and --shift-noise cannot be negative")
    if config.finetune_new_styles and not config.init_from:
        raise ValueError("--finetune-new-styles needs --init-from (the trained network the new styles join)")
    for name in ("batch_size", "image_size", "width", "log_every", "checkpoint_every", "sample_every",
                 "keep_checkpoints"):
        if getattr(config, name) < 1:
            raise ValueError(f"{flag(name)} must be at least 1")


# ------------------------------------------------------------------------------ the record

def recipe_record(config: TrainConfig, weights: dict) -> dict:
    """What a segment trained with (the settings that may change on a resume), with the loss weights as resolved
    for the loss network (weights: resolve_loss_weights). Each segment's record and the training summary's
    hyperparameters are written from this."""
    return {"precision": config.precision, "batch_size": config.batch_size, "image_size": config.image_size,
            "lr": config.lr, "content_weight": weights["content"], "style_weight": weights["style"],
            "tv_weight": weights["tv"], "tv_abs_weight": weights["tv_abs"], "style_share": config.style_share,
            "teacher": config.teacher, "teacher_weight": config.teacher_weight,
            "teacher_features_weight": config.teacher_features_weight,
            "shift_weight": config.shift_weight, "shift_noise": config.shift_noise}


# fixed at a run's start
RUN_SETTINGS = ("style_size", "width", "antialias", "detail", "channels_last", "seed", "init_from",
                "finetune_new_styles")


def hyperparameters(settings: dict, recipe: dict, steps: int) -> dict:
    """The training summary's hyperparameters: the last segment's recipe (recipe_record) and what a run fixes at its
    start, from its settings (a TrainConfig as a dict, as a checkpoint keeps it)."""
    return {"iterations": steps, **recipe, **{k: settings[k] for k in RUN_SETTINGS if k in settings},
            "optimizer": "Adam"}
