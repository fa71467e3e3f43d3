"""The checkpoint we export from, and the model card JSON written beside the ONNX file."""

import base64
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import torch
from PIL import Image, ImageOps
from stylecore.modelfiles import (
    MAIN_VARIANT,
    PIXEL_RANGE,
    write_card,  # noqa: F401 - scripts/ship_styles.py writes cards through here
)

from training.model import load_transformer
from training.record import summary_from_checkpoint
from training.runfolder import FINAL, summary_near
from training.vgg import file_sha256

THUMBNAIL_SIDE = 160


class ExportError(ValueError):
    """A problem with what the user asked for: printed as a one-line error by the CLI."""


def load_checkpoint(path) -> tuple:
    """(TransformerNet, training config dict, step, segments, lineage) from final.pth, checkpoints/step_*.pth or
    a bare state dict; segments are the run's compute records (training/record.py), empty for older checkpoints;
    lineage the runs it was initialised from (training/checkpoint.py)."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise ExportError(f"{path}: not a PyTorch checkpoint ({exc})") from exc
    if not isinstance(checkpoint, dict):
        raise ExportError(f"{path}: expected a checkpoint dict, found {type(checkpoint).__name__}")
    state = checkpoint.get("model", checkpoint)
    try:
        net = load_transformer(state)
    except Exception as exc:  # noqa: BLE001 - missing or mis-shaped keys
        raise ExportError(f"{path}: not a TransformerNet checkpoint ({str(exc).splitlines()[0]})") from exc
    return (net, checkpoint.get("config", {}) or {}, checkpoint.get("step"), checkpoint.get("segments", []),
            checkpoint.get("lineage", []))


def training_summary(checkpoint_path, config: dict, step, segments: list, ancestry=()) -> dict:
    """The run's training summary (training/runfolder.py finds it); else what the checkpoint says: its
    hyperparameters, and the steps, images and compute of its segments (training/record.py)."""
    found = summary_near(checkpoint_path)
    if found is None:
        return summary_from_checkpoint(config, step, segments, ancestry)
    summary = json.loads(found.read_text())
    if Path(checkpoint_path).name != FINAL:
        summary["note"] = f"exported from {Path(checkpoint_path).name} (step {step}), not the run's final model"
        summary["steps"] = step
    return summary


def thumbnail_data_url(style_image, side: int = THUMBNAIL_SIDE) -> str:
    """A small JPEG of the painting (longest side `side`), as a data URL the web page can show directly."""
    try:
        with Image.open(style_image) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read the style image {style_image}: {exc}") from exc
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def parse_year(year):
    if year is None:
        return None
    text = str(year).strip()
    return int(text) if re.fullmatch(r"-?\d{1,4}", text) else text  # "1831", or "c. 1830-32" as written


def model_card(style_id: str, name: str, artist: str | None, year, style_license: str, style_image,
               onnx_path, summary: dict, parity: list, exporter: str, dataset_license: str | None = None) -> dict:
    onnx_path = Path(onnx_path)
    return {
        "id": style_id,
        "name": name,
        "artist": artist,
        "year": parse_year(year),
        "style_license": style_license,
        "thumbnail": thumbnail_data_url(style_image),
        "style_image": {"file": Path(style_image).name, "sha256": file_sha256(style_image)},
        "training_data_license": dataset_license,
        "model": {"file": onnx_path.name, "bytes": onnx_path.stat().st_size, "sha256": file_sha256(onnx_path),
                  "format": "onnx", "precision": MAIN_VARIANT},
        "pixel_range": dict(PIXEL_RANGE),
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "exporter": exporter,
        "parity": parity,
        "training": summary,
    }


def evaluation_defaults(config: dict, style_image) -> dict:
    """What `training evaluate` needs to score this ONNX file the way the checkpoint would be scored."""
    keys = ("vgg_weights", "style_size", "content_layer")
    return {"style_image": str(style_image), **{k: config[k] for k in keys if config.get(k) is not None}}
