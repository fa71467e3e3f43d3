"""The training loop: fit the transformer network to one style image, or one network to several
(conditional instance norm, Dumoulin et al. 2017), as in Johnson et al. 2016.

Read top to bottom: config, setup, the loop, the training summary. Checkpoints live in
checkpoint.py, the metrics file, progress bar and samples in runlog.py. Runs on one CPU or GPU,
or under `torchrun` with DistributedDataParallel.
"""

import contextlib
import json
import logging
import math
import os
import signal
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from stylecore.modelfiles import PIXEL_RANGE

from . import checkpoint as ckpt
from .data import EpochSampler, PhotoDataset, find_images, load_style_image
from .losses import DEFAULT_WEIGHTS, PerceptualLoss
from .model import TABLE_1_WIDTH, TransformerNet, architecture, count_parameters
from .runlog import RunLog, load_samples, sample_photo_paths, save_samples
from .stability import ShiftConsistency
from .vgg import LAYER_NAMES, STYLE_LAYERS, file_sha256, load_loss_network

log = logging.getLogger("training")

PRECISIONS = ("off", "bf16", "fp16", "auto")
SUMMARY_FILE = "training_summary.json"  # the run's own record; the exporter's document is the model card


@dataclass
class TrainConfig:
    """Every setting of a run; `python -m training train --help` takes its defaults from here."""

    dataset: str
    style_images: list  # one painting per style; a multi-style network for two or more
    out: str
    style_ids: list | None = None  # default: the paintings' file names without extension
    iterations: int | None = None  # optimizer steps; or give epochs
    epochs: float | None = None
    batch_size: int = 4
    image_size: int = 256
    style_size: int | None = 512  # long side of the style image; None keeps it as it is
    width: int = TABLE_1_WIDTH  # 32: Table 1; 16: half width (c9s1-16, d32, d64, R64 x5, u32, u16, c9s1-3)
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


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 runs in hardware: a CUDA GPU that has it, or a CPU with AMX or AVX512-BF16 (a Sapphire
    Rapids pair of cores: 1.7x fp32's images/s at the bundled recipe). Elsewhere it is emulated, far slower."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "off"


def autocast_context(device: torch.device, precision: str):
    if precision == "off":
        return contextlib.nullcontext()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_everything(seed: int):
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class Process:
    """Where this process stands: its device and, under torchrun, its rank among the others."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start_process(device_name: str) -> Process:
    """One process of the run; under torchrun, joins the process group (NCCL on GPUs, gloo on CPUs)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Process(pick_device(device_name))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = pick_device(device_name, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Process(device, int(os.environ["RANK"]), world_size)


def resolve_loss_weights(config: TrainConfig, preprocessing: str) -> dict:
    defaults = DEFAULT_WEIGHTS[preprocessing]
    style = defaults["style"] if config.style_weight is None else config.style_weight
    return {
        "content": defaults["content"] if config.content_weight is None else config.content_weight,
        "style": [float(style)] * len(config.style_images) if isinstance(style, int | float) else list(style),
        "tv": defaults["tv"] if config.tv_weight is None else config.tv_weight,  # one, or a list per style
        "tv_abs": config.tv_abs_weight,
    }


def validate(config: TrainConfig):
    """Fail before any work starts: missing inputs, impossible settings."""
    for image in config.style_images:
        if not Path(image).is_file():
            raise FileNotFoundError(f"style image not found: {image}")
    if len(set(config.style_ids)) != len(config.style_images):
        raise ValueError(f"one distinct style id per style image: {config.style_ids}")
    for name in ("style_weight", "tv_weight", "tv_abs_weight"):
        weight = getattr(config, name)
        if isinstance(weight, list) and len(weight) not in (1, len(config.style_images)):
            raise ValueError(f"--{name.replace('_', '-')}: one weight, or one per style ({len(config.style_images)})")
    if config.style_share is not None and (len(config.style_share) != len(config.style_images)
                                           or min(config.style_share) <= 0):
        raise ValueError(f"--style-share: one positive share per style ({len(config.style_images)})")
    find_images(config.dataset)  # raises on a missing or empty folder
    if config.content_layer not in LAYER_NAMES:
        raise ValueError(f"--content-layer must be one of {', '.join(LAYER_NAMES)}")
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
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")


def freeze_all_but(net: TransformerNet, styles: list):
    """Train only these styles' gammas and betas: everything shared is frozen, other styles' rows get no gradient."""
    for p in net.shared_parameters():
        p.requires_grad_(False)
    mask = torch.zeros(net.num_styles, 1)
    mask[styles] = 1.0
    for norm in net.norm_layers():
        for p in (norm.weight, norm.bias):
            p.register_hook(lambda grad: grad * mask.to(grad.device))


def draw_styles(styles: list, batch_size: int, seed: int, step: int, rank: int, shares=None) -> torch.Tensor:
    """Each image's style for this step: a pure function of (seed, step, rank), so a resume draws the same.
    shares (one per style of the network): a style the shared layers give too little to can be drawn more
    often; without them every style is equally likely."""
    generator = torch.Generator().manual_seed((seed * 1_000_003 + step) * 4099 + rank)
    if shares is None:
        picks = torch.randint(len(styles), (batch_size,), generator=generator)
    else:
        odds = torch.tensor([float(shares[i]) for i in styles])
        picks = torch.multinomial(odds, batch_size, replacement=True, generator=generator)
    return torch.tensor(styles)[picks]


# ------------------------------------------------------------------------------------ train

def train(config: TrainConfig) -> dict:
    validate(config)
    proc = start_process(config.device)
    device = proc.device
    config = replace(config, precision=resolve_precision(config.precision, device))  # what the records say
    out = Path(config.out)
    if proc.is_main:
        out.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    num_styles = len(config.style_images)

    # Data: the sampler, not the loader, decides the order, so a resume can start mid-epoch.
    dataset = PhotoDataset(config.dataset, config.image_size, seed=config.seed)
    sampler = EpochSampler(len(dataset), config.batch_size, config.seed, proc.rank, proc.world_size)
    loader_args = dict(batch_size=config.batch_size, sampler=sampler, num_workers=config.workers,
                       pin_memory=device.type == "cuda", drop_last=True)
    if config.workers > 0:
        loader_args["prefetch_factor"] = 4
    total_steps = config.total_steps(sampler.batches_per_epoch)

    # The loss network and every painting's style targets.
    loss_network = load_loss_network(config.vgg_weights).to(device, memory_format=memory_format)
    weights = resolve_loss_weights(config, loss_network.preprocessing.name)
    paintings = [load_style_image(p, config.style_size).to(device) for p in config.style_images]
    criterion = PerceptualLoss(loss_network, paintings, config.content_layer, weights["content"],
                               weights["style"], weights["tv"], tv_abs_weight=weights["tv_abs"],
                               teacher_weight=config.teacher_weight,
                               teacher_features_weight=config.teacher_features_weight).to(device)

    # The transformer network, its starting weights and its optimizer. New styles fine-tuned into a trained network
    # train only their own scales and shifts: everything else is the base network's, so its width is the base's.
    if config.finetune_new_styles:
        config = replace(config, width=architecture(ckpt.read_weights(config.init_from)[0])["width"])
    net = TransformerNet(num_styles, config.width).to(device, memory_format=memory_format)
    trained_styles = list(range(num_styles))
    ancestry = []  # the runs whose weights this one started from (checkpoint.lineage)
    if config.init_from:
        new_styles = ckpt.init_from(net, config.init_from, config.style_ids)
        ancestry = ckpt.lineage(config.init_from)
        if config.finetune_new_styles:
            if not new_styles:
                raise ValueError("--finetune-new-styles: every style is already in the --init-from network")
            freeze_all_but(net, new_styles)
            trained_styles = new_styles
    # Distillation: a narrower network learns faster from a wider trained one's outputs (one target per photo)
    # than from the perceptual losses alone, which it keeps.
    teacher = None
    if config.teacher:
        teacher = ckpt.load_teacher(config.teacher, config.style_ids).to(device, memory_format=memory_format)
    stability = ShiftConsistency(config.shift_noise) if config.shift_weight > 0 else None
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=config.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=config.precision == "fp16")
    step, prior_wall, resumed_at, prior_segments = 0, 0.0, [], []  # earlier segments' steps, time, records
    if config.resume:
        path = ckpt.resume_path(config.resume, out)
        saved = ckpt.load_for_resume(path, device, net, optimizer, scaler, asdict(config))
        step, prior_wall = saved["step"], saved.get("wall_time_s", 0.0)
        resumed_at = [*saved.get("resumed_at_steps", []), step]
        prior_segments = saved.get("segments", [])
        ancestry = saved.get("lineage", ancestry)
        log.info("resumed from %s at step %d", path, step)
    model = net
    if proc.distributed:
        model = torch.nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda"
                                                          else None)
    if config.compile:
        model = torch.compile(model)
    samples = load_samples(sample_photo_paths(config.sample_images, dataset.files), config.sample_size) \
        if proc.is_main else []
    if proc.is_main:
        log.info("transformer: width %d, %d styles, %d parameters (%d trained); loss network: %s (%s); "
                 "%d photos (%d skipped); %d steps of %d x %d images at %d px on %s, precision %s",
                 config.width, num_styles, count_parameters(net),
                 sum(p.numel() for p in net.parameters() if p.requires_grad), loss_network.source,
                 loss_network.preprocessing.name, len(dataset), len(dataset.skipped), total_steps,
                 config.batch_size, proc.world_size, config.image_size, device, config.precision)

    started, cpu_started, first_step = time.perf_counter(), time.process_time(), step

    def segments() -> list:
        """Every segment of the run so far, this one last: the compute record a model card reports."""
        return [*prior_segments, segment_record(config, weights, device, proc.world_size, first_step, step,
                                                time.perf_counter() - started, time.process_time() - cpu_started)]

    def state(**extra) -> dict:
        return {"format": ckpt.CHECKPOINT_FORMAT, "step": step, "model": net.state_dict(),
                "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(), "rng": ckpt.rng_states(),
                "config": asdict(config), "loss_weights": weights,
                "wall_time_s": prior_wall + time.perf_counter() - started, "resumed_at_steps": resumed_at,
                "segments": segments(), "lineage": ancestry, **extra}

    # The loop.
    stopped_early = False
    run_log = RunLog(out, total_steps, step, config.batch_size * proc.world_size, enabled=proc.is_main)
    with StopRequested() as stop, run_log:
        model.train()
        while step < total_steps and not stopped_early:
            epoch, batch_in_epoch = divmod(step, sampler.batches_per_epoch)
            sampler.set_position(epoch, batch_in_epoch)
            dataset.set_epoch(epoch)
            for content in torch.utils.data.DataLoader(dataset, **loader_args):
                content = content.to(device, non_blocking=True).contiguous(memory_format=memory_format)
                styles = None
                if num_styles > 1:
                    styles = draw_styles(trained_styles, len(content), config.seed, step, proc.rank,
                                         config.style_share).to(device)
                frames = shift = None
                if stability is not None:  # the same photos as the next frame of a moving camera, in one batch
                    frames, shift = stability.frames(content, torch.Generator().manual_seed(config.seed + step))
                with autocast_context(device, config.precision):
                    output = model(content, styles) if frames is None else \
                        model(torch.cat([content, frames]), styles if styles is None else styles.repeat(2))
                    output, painted = (output, None) if frames is None else output.split(len(content))
                    taught = None
                    if teacher is not None:
                        with torch.no_grad():
                            taught = teacher(content, styles)
                    losses = criterion(output, content, styles, taught)
                    if stability is not None:
                        losses.shift = stability(painted, output, shift)
                        losses.total = losses.total + config.shift_weight * losses.shift
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(losses.total).backward()
                scaler.step(optimizer)
                scaler.update()
                step += 1

                run_log.step(step, epoch, losses, optimizer.param_groups[0]["lr"],
                             log_now=step % config.log_every == 0 or step == total_steps)
                if proc.is_main and (step % config.sample_every == 0 or step == total_steps):
                    save_samples(net, samples, num_styles, device, out / "samples", step)
                if proc.is_main and step % config.checkpoint_every == 0 and step < total_steps:
                    ckpt.save_checkpoint(state(), out, config.keep_checkpoints)
                if stop_votes(stop.requested, proc):
                    if proc.is_main:
                        ckpt.save_checkpoint(state(), out, config.keep_checkpoints)
                    stopped_early = True
                    break
                if step >= total_steps:
                    break

    wall = prior_wall + time.perf_counter() - started
    result = {"step": step, "stopped_early": stopped_early}
    if proc.is_main and stopped_early:
        log.warning("stopped at step %d; resume with --resume latest", step)
    elif proc.is_main:
        ckpt.atomic_save(state(final=True), out / "final.pth")
        summary = training_summary(config, dataset, loss_network, weights, step, run_log.final_losses(), wall,
                                   device, resumed_at, proc.world_size, segments(), ancestry)
        (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        result["summary"] = summary
        log.info("done: %s", out / "final.pth")
    if proc.distributed:
        dist.barrier()
        dist.destroy_process_group()
    return result


def stop_votes(requested: bool, proc: Process) -> bool:
    """Whether to stop after this step. Under DDP every rank stops at the same step, or the collectives hang."""
    if not proc.distributed:
        return requested
    votes = torch.tensor(float(requested), device=proc.device)
    dist.all_reduce(votes)
    return votes.item() > 0


def segment_record(config, weights, device, world_size, first_step, step, wall_s, cpu_s) -> dict:
    """One segment (one process's stretch of a run, between resumes): its steps, recipe and compute.

    cpu_s is this process's CPU time over all its threads (data-loading workers not included): on a
    CPU, the CPU-hours a model cost; on a GPU, wall_s x GPUs is the figure to quote."""
    return {"steps": [first_step, step], "images": (step - first_step) * config.batch_size * world_size,
            "ended": datetime.now(UTC).isoformat(timespec="seconds"), "wall_s": round(wall_s, 1),
            "cpu_s": round(cpu_s, 1), "threads": torch.get_num_threads(), "processes": world_size,
            "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
            "precision": config.precision, "batch_size": config.batch_size, "image_size": config.image_size,
            "lr": config.lr, "content_weight": weights["content"], "style_weight": weights["style"],
            "tv_weight": weights["tv"], "tv_abs_weight": weights["tv_abs"], "style_share": config.style_share,
            "teacher": config.teacher, "teacher_weight": config.teacher_weight,
            "teacher_features_weight": config.teacher_features_weight,
            "shift_weight": config.shift_weight, "shift_noise": config.shift_noise}


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


def training_summary(config, dataset, loss_network, weights, step, final_losses, wall, device, resumed_at,
                     world_size, segments, ancestry=()) -> dict:
    """The run's own record (training_summary.json); the exporter copies it into the model card."""
    return {
        "kind": "fast-neural-style transformer (Johnson et al. 2016)"
                + (", conditional instance norm (Dumoulin et al. 2017)" if len(config.style_ids) > 1 else ""),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "styles": [{"id": sid, "file": Path(p).name, "sha256": file_sha256(p), "style_weight": w}
                   for sid, p, w in zip(config.style_ids, config.style_images, weights["style"], strict=True)],
        "style_image": {"file": Path(config.style_images[0]).name, "sha256": file_sha256(config.style_images[0])},
        "dataset": {"path": str(config.dataset), "images": len(dataset), "skipped_unreadable": len(dataset.skipped)},
        "loss_network": {"source": loss_network.source, "preprocessing": loss_network.preprocessing.name,
                         "content_layer": config.content_layer, "style_layers": list(STYLE_LAYERS)},
        "hyperparameters": {
            "iterations": step, "batch_size": config.batch_size, "image_size": config.image_size,
            "style_size": config.style_size, "width": config.width, "lr": config.lr, "optimizer": "Adam",
            "content_weight": weights["content"], "style_weight": weights["style"], "tv_weight": weights["tv"],
            "tv_abs_weight": weights["tv_abs"], "style_share": config.style_share, "precision": config.precision,
            "channels_last": config.channels_last, "seed": config.seed,
            "init_from": config.init_from, "finetune_new_styles": config.finetune_new_styles,
            "teacher": config.teacher, "teacher_weight": config.teacher_weight,
            "teacher_features_weight": config.teacher_features_weight,
            "shift_weight": config.shift_weight, "shift_noise": config.shift_noise,
        },
        "steps": step,
        "images_seen": step * config.batch_size * world_size,
        "final_losses": final_losses,
        "final_losses_note": "mean of the last logged steps; content/style/tv unweighted",
        "wall_time_s": round(wall, 1),  # over every segment of a resumed run
        "resumed_at_steps": list(resumed_at),
        "segments": segments,
        "compute": compute_totals(segments),
        **lineage_summary(ancestry, segments),
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "torch_version": torch.__version__,
        "pixel_range": PIXEL_RANGE,
    }
