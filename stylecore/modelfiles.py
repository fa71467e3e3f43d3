"""The model-file contract between the training world and the serving world, written once.

A style is a model card `<style_id>.json` with its ONNX files: `<style_id>.onnx` (the main model, fp32) and
`<style_id>.<variant>.onnx` (fp16, int8, ...). The exporter writes them, the registry discovers styles by
their card and serves one of the files, `training evaluate` scores them. The network takes and returns RGB
float32 in PIXEL_MIN..PIXEL_MAX, the names below are its ONNX inputs, outputs and metadata keys.

Standard library only: the exporter and the trainer import this without onnxruntime.
"""

import json
import re
from pathlib import Path

# ------------------------------------------------------------------------------------- style ids and files

STYLE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # safe in URLs and in file names
STYLE_ID_RULE = "1-64 lower-case letters, digits, '_' or '-', starting with a letter or a digit"
USER_STYLE_PREFIX = "user-"  # a user's own style: user-<job id> (apicommon.userstyles, which the jobs share)
VARIANT = re.compile(r"[a-z0-9_]{1,16}")  # both matched whole (fullmatch)
MAIN_VARIANT = "fp32"  # the main model's precision: `<id>.onnx`, never `<id>.fp32.onnx`
# The variant for moving pictures (the live camera, video): the same styles from a second network trained to hold
# still when the scene moves (antialiased, so its strokes do not snap to a 4-px lattice); photos keep the main one.
STEADY_VARIANT = "steady"
MODEL_SUFFIX = ".onnx"
CARD_SUFFIX = ".json"


def is_style_id(text) -> bool:
    return isinstance(text, str) and STYLE_ID.fullmatch(text) is not None


def is_variant(text) -> bool:
    return isinstance(text, str) and VARIANT.fullmatch(text) is not None


def model_filename(style_id: str, variant: str | None = None) -> str:
    """`great_wave.onnx`, or `great_wave.int8.onnx` for a variant (None and "fp32" name the main model)."""
    return f"{style_id}.{variant}{MODEL_SUFFIX}" if variant and variant != MAIN_VARIANT \
        else f"{style_id}{MODEL_SUFFIX}"


def card_filename(style_id: str) -> str:
    return f"{style_id}{CARD_SUFFIX}"


def parse_model_filename(name: str) -> tuple[str, str | None] | None:
    """`great_wave.int8.onnx` -> ("great_wave", "int8"), `great_wave.onnx` -> ("great_wave", None); else None."""
    if not name.endswith(MODEL_SUFFIX):
        return None
    style_id, _, variant = name[:-len(MODEL_SUFFIX)].partition(".")
    if not is_style_id(style_id) or (variant and not is_variant(variant)):
        return None
    return style_id, variant or None


def parse_card_filename(name: str) -> str | None:
    """`great_wave.json` -> "great_wave"; None for anything else."""
    style_id = name[:-len(CARD_SUFFIX)] if name.endswith(CARD_SUFFIX) else None
    return style_id if is_style_id(style_id) else None


def card_path(model_path) -> Path:
    """The card beside a model file: `x.int8.onnx` and `x.onnx` share `x.json`."""
    model_path = Path(model_path)
    parsed = parse_model_filename(model_path.name)
    style_id = parsed[0] if parsed else model_path.name.split(".")[0]
    return model_path.with_name(card_filename(style_id))


# ------------------------------------------------------------------------------------------ the model card


def parse_card(text, where: str) -> dict:
    try:
        card = json.loads(text)
    except ValueError as exc:
        raise RuntimeError(f"{where}: the model card is not valid JSON ({exc})") from exc
    if not isinstance(card, dict):
        raise RuntimeError(f"{where}: the model card must be a JSON object")
    return card


def read_card(path) -> dict:
    """A model card; {} where there is none (a model file without a card still runs)."""
    path = Path(path)
    if not path.is_file():
        return {}
    return parse_card(path.read_text(encoding="utf-8"), str(path))


def write_card(card: dict, path) -> None:
    Path(path).write_text(json.dumps(card, indent=2, allow_nan=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------ what a user may be shown

# A path or URL standing on its own in a text: after a space, a quote, a bracket, `=`, `,` or `:` (so not the
# `/` of "bf16/fp32" or "1/2"). Absolute, home, relative-to-here and Windows paths, and URLs such as s3://.
_PATH_TOKEN = re.compile(r"""(?:^|(?<=[\s(\[{'"=,:]))(?:[a-z][a-z0-9+.-]*://[^\s'"()<>]+|(?:~|\.{1,2})?/[^\s'"()<>,;]+"""
                         r"""|[A-Za-z]:\\[^\s'"()<>,;]+)""")


def without_paths(value):
    """The value (a text, or JSON: dicts and lists of them) with every path and URL in its texts cut to its last
    part: "/srv/app/runs/jobs/x/painting.png" -> "painting.png". What a user style's model file and card say
    about its training, and a job's error, reach the user; the server's folders and buckets are not theirs."""
    if isinstance(value, dict):
        return {key: without_paths(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_paths(item) for item in value]
    if not isinstance(value, str) or value.startswith("data:"):  # a data URL (a thumbnail) is no path
        return value
    return _PATH_TOKEN.sub(lambda m: m.group(0).rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1], value)


# ------------------------------------------------------------------------------------ the network's pixels

PIXEL_MIN, PIXEL_MAX = 0.0, 255.0  # RGB in and out; the output is unclamped: clamp to this before 8 bits
MIN_SIDE = 5  # the 9x9 reflection padding needs at least 5 pixels per side
PIXEL_RANGE = {  # as the card and the ONNX metadata state it
    "input": f"RGB float32 (N, 3, H, W) {PIXEL_MIN:g}..{PIXEL_MAX:g}",
    "output": f"RGB float32 {PIXEL_MIN:g}..{PIXEL_MAX:g}, unclamped",
}
PIXEL_RANGE_TEXT = f"input: {PIXEL_RANGE['input']}, any H, W >= {MIN_SIDE}; output: {PIXEL_RANGE['output']}"

# ---------------------------------------------------------------------------------- the ONNX interface

INPUT = "input"  # (N, 3, H, W) float32
OUTPUT = "output"  # (N, 3, H, W) float32
# Instance-norm statistics (our exporter): every layer's per-channel mean and variance come out as
# NORM_STATS_OUTPUT (N, 2, C) and go back in through NORM_STATS_OVERRIDE_INPUT (2, C) when
# NORM_STATS_MIX_INPUT (a scalar, default 0) is 1. That is what makes tiles agree.
NORM_STATS_OUTPUT = "norm_stats"
NORM_STATS_OVERRIDE_INPUT = "norm_stats_override"
NORM_STATS_MIX_INPUT = "norm_stats_mix"
INPUT_NAMES = (INPUT, NORM_STATS_OVERRIDE_INPUT, NORM_STATS_MIX_INPUT)
OUTPUT_NAMES = (OUTPUT, NORM_STATS_OUTPUT)
# A multi-style network takes the mix of its styles as STYLE_WEIGHTS_INPUT (N, S) and lists its styles,
# in that order, under the metadata key STYLES_METADATA_KEY.
STYLE_WEIGHTS_INPUT = "style_weights"
STYLES_METADATA_KEY = "styles"
# "true" for a network that low-passes before its strides and upsamples bilinearly (training/model.py, antialias):
# its filters are fixed, not weights, so a reader of the weights learns of them here.
ANTIALIAS_METADATA_KEY = "antialias"
