"""The training loop: fit the transformer network to one style image (Johnson et al. 2016).

Read top to bottom: config, setup, the loop, checkpoints, samples, the model card.
Runs on one CPU or GPU, or under `torchrun` with DistributedDataParallel.
"""

import contextlib
import json
import logging
import math
import os
import random
import signal
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from .data import EpochSampler, PhotoDataset, find_images, load_rgb, load_style_image, resize_short_side, to_tensor
from .losses import DEFAULT_WEIGHTS, PerceptualLoss
from .model import TransformerNet, count_parameters
from .vgg import LAYER_NAMES, STYLE_LAYERS, file_sha256, load_loss_network

log = logging.getLogger("training")

CHECKPOINT_FORMAT = "fnst-checkpoint"


@dataclass
class TrainConfig:
    dataset: str
    style_image: str
    out: str
    iterations: int | None = None  # optimizer steps; or give epochs
    epochs: float | None = None
    batch_size: int = 4
    image_size: int = 256
    style_size: int | None = 512  # long side of the style image; None keeps it as it is
    lr: float = 1e-3
    content_weight: float | None = None  # None: DEFAULT_WEIGHTS for the loss network's preprocessing
    style_weight: float | None = None
    tv_weight: float | None = None
    content_layer: str = "relu2_2"
    vgg_weights: str = "torchvision"
    precision: str = "off"  # off | bf16 | fp16
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

    def total_steps(self, batches_per_epoch: int) -> int:
        if self.iterations:
            return self.iterations
        if self.epochs:
            return max(1, math.ceil(self.epochs * batches_per_epoch))
        raise ValueError("give --iterations or --epochs")


class StopRequested:
    """First Ctrl-C (or SIGTERM): finish the current step, save, exit. Second Ctrl-C: stop now."""

    def __init__(self):
        self.requested = False
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("stop requested: saving a checkpoint after this step (Ctrl-C again to quit at once)")

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


# ---------------------------------------------------------------------------------------- setup

def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda, but no CUDA device is available")
        return torch.device("cuda", local_rank)
    return torch.device(name)


def autocast_context(device: torch.device, precision: str):
    if precision == "off":
        return contextlib.nullcontext()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_everything(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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


def resolve_loss_weights(config: TrainConfig, preprocessing: str) -> dict:
    defaults = DEFAULT_WEIGHTS[preprocessing]
    return {
        "content": defaults["content"] if config.content_weight is None else config.content_weight,
        "style": defaults["style"] if config.style_weight is None else config.style_weight,
        "tv": defaults["tv"] if config.tv_weight is None else config.tv_weight,
    }


def validate(config: TrainConfig):
    """Fail before any work starts: missing inputs, impossible settings."""
    if not Path(config.style_image).is_file():
        raise FileNotFoundError(f"style image not found: {config.style_image}")
    find_images(config.dataset)  # raises on a missing or empty folder
    if config.content_layer not in LAYER_NAMES:
        raise ValueError(f"--content-layer must be one of {', '.join(LAYER_NAMES)}")
    if config.precision not in ("off", "bf16", "fp16"):
        raise ValueError("--precision must be off, bf16 or fp16")
    if not config.iterations and not config.epochs:
        raise ValueError("give --iterations or --epochs")
    for name in ("batch_size", "image_size", "log_every", "checkpoint_every", "sample_every", "keep_checkpoints"):
        if getattr(config, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")


def sample_photo_paths(config: TrainConfig, dataset: PhotoDataset) -> list:
    paths = []
    for entry in config.sample_images:
        entry = Path(entry)
        paths.extend(find_images(entry) if entry.is_dir() else [entry])
    if not paths:  # four photos spread over the dataset, the same ones every run
        step = max(1, len(dataset.files) // 4)
        paths = dataset.files[::step][:4]
    return paths[:8]


# ------------------------------------------------------------------------------ checkpoints

def atomic_save(obj, path: Path):
    """Write to a temporary file, then rename: a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def latest_checkpoint(out: Path):
    found = sorted((out / "checkpoints").glob("step_*.pth"))
    return found[-1] if found else None


def prune_checkpoints(out: Path, keep: int):
    for old in sorted((out / "checkpoints").glob("step_*.pth"))[:-keep]:
        old.unlink()


def unwrap(model):
    model = getattr(model, "module", model)  # DDP
    return getattr(model, "_orig_mod", model)  # torch.compile


# --------------------------------------------------------------------------------- samples

def load_samples(paths: list, size: int) -> list:
    samples = []
    for path in paths:
        image = load_rgb(path)
        if min(image.size) > size:
            image = resize_short_side(image, size)
        samples.append((Path(path).stem, to_tensor(image)))
    return samples


@torch.no_grad()
def save_samples(net, samples: list, device, out_dir: Path, step: int):
    """Each sample photo next to its stylization, one JPEG per step."""
    from PIL import Image

    net.eval()
    rows = []
    for _, photo in samples:
        styled = net(photo.unsqueeze(0).to(device)).clamp(0, 255)[0].float().cpu()
        pair = torch.cat([photo, styled], dim=2)  # side by side
        rows.append(pair.permute(1, 2, 0).round().byte().numpy())
    net.train()
    width = max(r.shape[1] for r in rows)
    sheet = np.zeros((sum(r.shape[0] for r in rows), width, 3), np.uint8)
    y = 0
    for r in rows:
        sheet[y:y + r.shape[0], :r.shape[1]] = r
        y += r.shape[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(out_dir / f"step_{step:06d}.jpg", quality=90)


# ------------------------------------------------------------------------------------ train

def train(config: TrainConfig) -> dict:
    validate(config)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world_size, local_rank = 0, 1, 0
    if distributed:
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = pick_device(config.device, local_rank)
    if distributed:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    is_main = rank == 0
    out = Path(config.out)
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format

    # Data: the sampler, not the loader, decides the order, so a resume can start mid-epoch.
    dataset = PhotoDataset(config.dataset, config.image_size, seed=config.seed)
    sampler = EpochSampler(len(dataset), config.batch_size, config.seed, rank, world_size)
    loader_args = dict(batch_size=config.batch_size, sampler=sampler, num_workers=config.workers,
                       pin_memory=device.type == "cuda", drop_last=True)
    if config.workers > 0:
        loader_args["prefetch_factor"] = 4
    total_steps = config.total_steps(sampler.batches_per_epoch)

    # The loss network and the style targets.
    loss_network = load_loss_network(config.vgg_weights).to(device, memory_format=memory_format)
    weights = resolve_loss_weights(config, loss_network.preprocessing.name)
    style = load_style_image(config.style_image, config.style_size).to(device)
    criterion = PerceptualLoss(loss_network, style, config.content_layer, weights["content"],
                               weights["style"], weights["tv"]).to(device)

    # The transformer network and its optimizer.
    net = TransformerNet().to(device, memory_format=memory_format)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=config.precision == "fp16")
    step = 0
    prior_wall, resumed_at = 0.0, []  # the time and resumptions of earlier segments of this run
    resume_path = latest_checkpoint(out) if config.resume == "latest" else config.resume
    if config.resume == "latest" and resume_path is None:
        raise FileNotFoundError(f"--resume: no checkpoint under {out / 'checkpoints'}")
    if resume_path:
        checkpoint = torch.load(resume_path, map_location=device, weights_only=False)
        if checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{resume_path}: not a training checkpoint")
        net.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scaler.load_state_dict(checkpoint["scaler"])
        step = checkpoint["step"]
        prior_wall = checkpoint.get("wall_time_s", 0.0)
        resumed_at = [*checkpoint.get("resumed_at_steps", []), step]
        set_rng_states(checkpoint["rng"])
        for key in ("style_image", "batch_size", "image_size", "vgg_weights", "seed"):
            if checkpoint["config"].get(key) != getattr(config, key):
                log.warning("resuming with a different %s: %r (was %r)", key, getattr(config, key),
                            checkpoint["config"].get(key))
        if is_main:
            log.info("resumed from %s at step %d", resume_path, step)
    model = net
    if distributed:
        device_ids = [local_rank] if device.type == "cuda" else None
        model = torch.nn.parallel.DistributedDataParallel(net, device_ids=device_ids)
    if config.compile:
        model = torch.compile(model)

    samples = load_samples(sample_photo_paths(config, dataset), config.sample_size) if is_main else []
    metrics_file = open(out / "metrics.jsonl", "a") if is_main else None
    progress = None
    if is_main:
        from tqdm import tqdm

        progress = tqdm(total=total_steps, initial=step, unit="step", dynamic_ncols=True)
        log.info("transformer: %d parameters; loss network: %s (%s preprocessing); %d photos (%d skipped); "
                 "%d steps of %d x %d images at %d px on %s, precision %s",
                 count_parameters(net), loss_network.source, loss_network.preprocessing.name, len(dataset),
                 len(dataset.skipped), total_steps, config.batch_size, world_size, config.image_size, device,
                 config.precision)

    def checkpoint_state():
        return {"format": CHECKPOINT_FORMAT, "step": step, "model": unwrap(model).state_dict(),
                "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(), "rng": rng_states(),
                "config": asdict(config), "loss_weights": weights,
                "wall_time_s": prior_wall + time.perf_counter() - started, "resumed_at_steps": resumed_at}

    def save_checkpoint():
        if is_main:
            atomic_save(checkpoint_state(), out / "checkpoints" / f"step_{step:06d}.pth")
            prune_checkpoints(out, config.keep_checkpoints)

    recent = []  # losses of the last steps, for the model card
    images_per_step = config.batch_size * world_size
    interval_start, interval_steps = time.perf_counter(), 0
    started = time.perf_counter()
    stopped_early = False
    with StopRequested() as stop:
        model.train()
        while step < total_steps and not stopped_early:
            epoch, batch_in_epoch = divmod(step, sampler.batches_per_epoch)
            sampler.set_position(epoch, batch_in_epoch)
            dataset.set_epoch(epoch)
            for content in torch.utils.data.DataLoader(dataset, **loader_args):
                content = content.to(device, non_blocking=True).contiguous(memory_format=memory_format)
                with autocast_context(device, config.precision):
                    output = model(content)
                    losses = criterion(output, content)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(losses.total).backward()
                scaler.step(optimizer)
                scaler.update()
                step += 1
                interval_steps += 1

                if step % config.log_every == 0 or step == total_steps:
                    values = losses.as_floats()
                    if not all(math.isfinite(v) for v in values.values()):
                        raise FloatingPointError(f"non-finite loss at step {step}: {values}")
                    elapsed = time.perf_counter() - interval_start
                    record = {"step": step, "epoch": epoch, **values,
                              "images_per_s": interval_steps * images_per_step / elapsed,
                              "lr": optimizer.param_groups[0]["lr"], "time": round(time.time(), 3)}
                    interval_start, interval_steps = time.perf_counter(), 0
                    recent = (recent + [values])[-20:]
                    if is_main:
                        metrics_file.write(json.dumps(record) + "\n")
                        metrics_file.flush()
                        progress.set_postfix(loss=f"{values['total']:.4g}", content=f"{values['content']:.4g}",
                                             style=f"{values['style']:.4g}", img_s=f"{record['images_per_s']:.2f}")
                if is_main:
                    progress.update(1)
                    if step % config.sample_every == 0 or step == total_steps:
                        save_samples(unwrap(model), samples, device, out / "samples", step)
                if step % config.checkpoint_every == 0 and step < total_steps:
                    save_checkpoint()

                wants_stop = torch.tensor(float(stop.requested), device=device)
                if distributed:  # every rank stops at the same step, or the collectives hang
                    dist.all_reduce(wants_stop)
                if wants_stop.item() > 0:
                    save_checkpoint()
                    stopped_early = True
                    break
                if step >= total_steps:
                    break

    wall = prior_wall + time.perf_counter() - started
    result = {"step": step, "stopped_early": stopped_early}
    if is_main:
        progress.close()
        metrics_file.close()
        if not stopped_early:
            final = {"format": CHECKPOINT_FORMAT, **checkpoint_state(), "final": True}
            atomic_save(final, out / "final.pth")
            card = model_card(config, dataset, loss_network, weights, step, recent, wall, device, resumed_at)
            (out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
            result["card"] = card
            log.info("done: %s", out / "final.pth")
        else:
            log.warning("stopped at step %d; resume with --resume latest", step)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return result


def model_card(config, dataset, loss_network, weights, step, recent, wall, device, resumed_at=()) -> dict:
    final_losses = {k: float(np.mean([r[k] for r in recent])) for k in recent[0]} if recent else {}
    return {
        "kind": "fast-neural-style transformer (Johnson et al. 2016)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "style_image": {"file": Path(config.style_image).name, "sha256": file_sha256(config.style_image)},
        "dataset": {"path": str(config.dataset), "images": len(dataset), "skipped_unreadable": len(dataset.skipped)},
        "loss_network": {"source": loss_network.source, "preprocessing": loss_network.preprocessing.name,
                         "content_layer": config.content_layer, "style_layers": list(STYLE_LAYERS)},
        "hyperparameters": {
            "iterations": step, "batch_size": config.batch_size, "image_size": config.image_size,
            "style_size": config.style_size, "lr": config.lr, "optimizer": "Adam",
            "content_weight": weights["content"], "style_weight": weights["style"], "tv_weight": weights["tv"],
            "precision": config.precision, "channels_last": config.channels_last, "seed": config.seed,
        },
        "steps": step,
        "images_seen": step * config.batch_size * int(os.environ.get("WORLD_SIZE", "1")),
        "final_losses": final_losses,
        "final_losses_note": "mean of the last logged steps; content/style/tv unweighted",
        "wall_time_s": round(wall, 1),  # over every segment of a resumed run
        "resumed_at_steps": list(resumed_at),
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "torch_version": torch.__version__,
        "pixel_range": {"input": "RGB float 0..255", "output": "RGB float 0..255 (clamp to 0..255)"},
    }

