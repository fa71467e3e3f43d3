"""Training checkpoints: atomic saves, pruning, exact resume, and weights-only starts (--init-from).

A checkpoint holds everything an exact resume needs: model, optimizer, grad scaler, step, RNG
states, config and the wall time of every earlier segment. --init-from takes only the weights,
from a checkpoint or from an exported fp32 ONNX file, so a run can continue from the committed
model after the machine that trained it is gone, or add styles to a trained network.
"""

import logging
import os
import random
from pathlib import Path

import numpy as np
import torch
from stylecore.modelfiles import ANTIALIAS_METADATA_KEY

from .model import TransformerNet, architecture, clean_state_dict, is_blur, is_detail, is_style_row, load_transformer
from .narrow import narrow_state
from .runfolder import RunFolder

log = logging.getLogger("training")

CHECKPOINT_FORMAT = "fnst-checkpoint"


def rng_states() -> dict:
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict):
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def atomic_save(obj, path: Path):
    """Write to a temporary file, then rename: a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_checkpoint(state: dict, out: Path, keep: int):
    run = RunFolder(out)
    atomic_save(state, run.checkpoint(state["step"]))
    for old in run.saved_checkpoints()[:-keep]:
        old.unlink()


def resume_path(resume: str | None, out: Path):
    """The checkpoint --resume names: a path, or "latest" in the run folder."""
    if resume != "latest":
        return resume
    found = RunFolder(out).latest_checkpoint()
    if found is None:
        raise FileNotFoundError(f"--resume: no checkpoint under {RunFolder(out).checkpoints}")
    return found


def load_for_resume(path, device, net, optimizer, scaler, config: dict) -> dict:
    """Restore a run's full state in place; returns the checkpoint (step, wall time, resumptions)."""
    checkpoint = torch.load(path, map_location=device, weights_only=False)
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a training checkpoint")
    net.load_state_dict(clean_state_dict(checkpoint["model"]))
    optimizer.load_state_dict(checkpoint["optimizer"])
    for group in optimizer.param_groups:  # this segment's --lr (the state dict brings the saved one back)
        group["lr"] = config["lr"]
    scaler.load_state_dict(checkpoint["scaler"])
    set_rng_states(checkpoint["rng"])
    for key in ("style_ids", "batch_size", "image_size", "vgg_weights", "seed", "width"):
        if key in checkpoint["config"] and checkpoint["config"][key] != config.get(key):
            log.warning("resuming with a different %s: %r (was %r)", key, config.get(key), checkpoint["config"][key])
    return checkpoint


# ------------------------------------------------------------------------------ --init-from

def read_weights(path) -> tuple[dict, list]:
    """(state dict, style ids in row order) of a checkpoint or of an exported fp32 ONNX file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--init-from: not found: {path}")
    if path.suffix == ".onnx":
        return read_onnx_weights(path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = clean_state_dict(checkpoint.get("model", checkpoint))
    config = checkpoint.get("config", {})
    ids = config.get("style_ids") or [Path(config.get("style_image", "style")).stem]
    return state, ids


def lineage(path) -> list:
    """The compute a network started with --init-from already holds: one record per ancestor run, oldest
    first (a checkpoint's own lineage, then the checkpoint itself), so a narrowed or fine-tuned network's card
    counts every photo it learned from. An ONNX file carries no segments: its lineage is empty."""
    path = Path(path)
    if path.suffix == ".onnx":
        return []
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    segments = checkpoint.get("segments", [])
    if not segments:
        return list(checkpoint.get("lineage", []))
    width = architecture(clean_state_dict(checkpoint.get("model", checkpoint)))["width"]
    return [*checkpoint.get("lineage", []), {"from": path.name, "width": width, "steps": checkpoint.get("step"),
                                             "segments": segments}]


def read_onnx_weights(path: Path) -> tuple[dict, list]:
    import json

    import onnx
    from onnx import numpy_helper

    proto = onnx.load(path)
    state = clean_state_dict({i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
                              for i in proto.graph.initializer if i.name.startswith("net.")})
    meta = {p.key: p.value for p in proto.metadata_props}
    missing = ["conv1.1.weight"]
    if "conv1.1.weight" in state and "conv1.0.conv.weight" in state:
        expected = TransformerNet(**{**architecture(state), "antialias": meta.get(ANTIALIAS_METADATA_KEY) == "true"})
        state.update({k: v for k, v in expected.state_dict().items() if is_blur(k)})  # fixed filters, not weights
        missing = sorted(set(expected.state_dict()) - set(state))
    if missing:
        raise ValueError(f"{path}: its weights cannot be read back (no {missing[0]}: a quantized file, or a "
                         "single-style export whose norms were folded); use its training checkpoint")
    ids = json.loads(meta["styles"]) if "styles" in meta else [meta.get("style_id", path.stem)]
    return state, [s["id"] if isinstance(s, dict) else s for s in ids]


def init_from(net: TransformerNet, path, style_ids: list) -> list:
    """Copy a trained network's weights into `net`; returns the indices of the styles it did not have.

    Shared weights are copied as they are. A style the source has keeps its gamma and beta rows;
    a new style starts from the mean of the source's rows (a neutral, already useful start). A wider
    source is narrowed to this run's width first, keeping its most important channels (narrow.py).
    """
    state, source_ids = read_weights(path)
    source = architecture(state)
    if source["width"] != net.width:
        state = narrow_state(state, net.width)  # refuses a narrower source
        log.info("narrowed %s from width %d to %d (its channels with the largest norm scales)", path,
                 source["width"], net.width)
    new_state = net.state_dict()
    new_styles = [i for i, sid in enumerate(style_ids) if sid not in source_ids]
    for key, value in new_state.items():
        if is_blur(key):  # fixed, not learnt: a network without them starts an antialiased one as well
            continue
        if is_detail(key) and key not in state:  # a network without the detail path starts one with it at zero
            continue
        if key not in state:
            raise ValueError(f"--init-from {path}: no {key}")
        if value.shape == state[key].shape and list(style_ids) == list(source_ids):
            new_state[key] = state[key]
        elif is_style_row(key, value):  # a norm's (styles, channels) rows
            rows = [state[key][source_ids.index(sid)] if sid in source_ids else state[key].mean(0)
                    for sid in style_ids]
            new_state[key] = torch.stack(rows)
        else:
            new_state[key] = state[key]
    net.load_state_dict(new_state)
    log.info("initialised from %s (%d styles: %s); new styles: %s", path, len(source_ids), ", ".join(source_ids),
             ", ".join(style_ids[i] for i in new_styles) or "none")
    return new_styles


def load_teacher(path, style_ids: list) -> TransformerNet:
    """A trained network whose outputs a narrower one learns to match (--teacher): frozen, in eval mode. Its
    styles must be the run's, in the same order, so that one style index means one painting to both."""
    state, source_ids = read_weights(path)
    if list(source_ids) != list(style_ids):
        raise ValueError(f"--teacher {path}: its styles ({', '.join(source_ids)}) are not the run's "
                         f"({', '.join(style_ids)})")
    teacher = load_transformer(state)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher
