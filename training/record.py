"""The run record: each segment's recipe and compute (kept in every checkpoint), and the training summary
(training_summary.json) that the exporter copies into the model card. The recipe part of both is
recipe.recipe_record, so a setting is recorded one way wherever it appears."""

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import torch
from stylecore.modelfiles import PIXEL_RANGE

from .recipe import TrainConfig, hyperparameters, recipe_record
from .vgg import STYLE_LAYERS, file_sha256


def device_name(device: torch.device) -> str:
    return str(device) if device.type != "cuda" else torch.cuda.get_device_name(device)


RECIPE = tuple(recipe_record(TrainConfig("", [], ""), {"content": 0, "style": [], "tv": 0, "tv_abs": 0}))
COMPUTE = ("steps", "images", "ended", "wall_s", "cpu_s", "threads", "processes", "device")  # beside the recipe


def segment_record(config: TrainConfig, weights, device, world_size, first_step, step, wall_s, cpu_s) -> dict:
    """One segment (one process's stretch of a run, between resumes): its steps, recipe and compute.

    cpu_s is this process's CPU time over all its threads (data-loading workers not included): on a
    CPU, the CPU-hours a model cost; on a GPU, wall_s x GPUs is the figure to quote."""
    return {"steps": [first_step, step], "images": (step - first_step) * config.batch_size * world_size,
            "ended": datetime.now(UTC).isoformat(timespec="seconds"), "wall_s": round(wall_s, 1),
            "cpu_s": round(cpu_s, 1), "threads": torch.get_num_threads(), "processes": world_size,
            "device": device_name(device), **recipe_record(config, weights)}


def compute_totals(segments: list) -> dict:
    """Steps, images, wall and CPU hours over a run's segments (CPU hours: None if a segment lacks them)."""
    cpu = [s.get("cpu_s") for s in segments]
    return {"segments": len(segments), "images": sum(s["images"] for s in segments),
            "wall_hours": round(sum(s["wall_s"] for s in segments) / 3600, 2),
            "cpu_hours": None if None in cpu else round(sum(cpu) / 3600, 2)}


def lineage_summary(ancestry, segments) -> dict:
    """A network initialised from others: their runs, and the compute of all of them with this run's."""
    if not ancestry:
        return {}
    every = [s for run in ancestry for s in run["segments"]] + list(segments)
    return {"lineage": list(ancestry), "compute_with_lineage": compute_totals(every)}


def paintings(config: TrainConfig, weights) -> dict:
    """The style images a run learnt from, with their digests (the first also as the one-style card's)."""
    first = config.style_images[0]
    return {"styles": [{"id": sid, "file": Path(p).name, "sha256": file_sha256(p), "style_weight": w}
                       for sid, p, w in zip(config.style_ids, config.style_images, weights["style"], strict=True)],
            "style_image": {"file": Path(first).name, "sha256": file_sha256(first)}}


def training_summary(config: TrainConfig, dataset, loss_network, weights, step, final_losses, wall, device,
                     resumed_at, world_size, segments, ancestry=()) -> dict:
    """The run's own record (training_summary.json); the exporter copies it into the model card."""
    return {
        "kind": "fast-neural-style transformer (Johnson et al. 2016)"
                + (", conditional instance norm (Dumoulin et al. 2017)" if len(config.style_ids) > 1 else ""),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **paintings(config, weights),
        "dataset": {"path": str(config.dataset), "images": len(dataset), "skipped_unreadable": len(dataset.skipped)},
        "loss_network": {"source": loss_network.source, "preprocessing": loss_network.preprocessing.name,
                         "content_layer": config.content_layer, "style_layers": list(STYLE_LAYERS)},
        "hyperparameters": hyperparameters(asdict(config), recipe_record(config, weights), step),
        "steps": step,
        "images_seen": step * config.batch_size * world_size,
        "final_losses": final_losses,
        "final_losses_note": "mean of the last logged steps; content/style/tv unweighted",
        "wall_time_s": round(wall, 1),  # over every segment of a resumed run
        "resumed_at_steps": list(resumed_at),
        "segments": segments,
        "compute": compute_totals(segments),
        **lineage_summary(ancestry, segments),
        "device": device_name(device),
        "torch_version": torch.__version__,
        "pixel_range": PIXEL_RANGE,
    }


def summary_from_checkpoint(config: dict, step, segments: list, ancestry=()) -> dict:
    """What a checkpoint says of its run when the run's summary is not at hand (a run exported mid-way): the
    hyperparameters from its settings and its last segment's recipe, the steps, images and compute of its
    segments."""
    recipe = {k: config[k] for k in RECIPE if k in config}  # as given; a segment records them as resolved
    recipe.update({k: v for k, v in segments[-1].items() if k not in COMPUTE} if segments else {})
    summary = {"steps": step, "hyperparameters": hyperparameters(config, recipe, step)}
    if config.get("content_layer") or config.get("vgg_weights"):
        summary["loss_network"] = {"content_layer": config.get("content_layer"), "weights": config.get("vgg_weights")}
    if config.get("style_image"):
        summary["style_image"] = {"file": Path(config["style_image"]).name}
    if config.get("dataset"):
        summary["dataset"] = {"path": config["dataset"]}
    if segments:
        summary["images_seen"] = sum(s["images"] for s in segments)
        summary["segments"] = segments
        summary["compute"] = compute_totals(segments)
    summary.update(lineage_summary(ancestry, segments))
    return summary
