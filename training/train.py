"""The training loop: fit the transformer network to one style image, or one network to several
(conditional instance norm, Dumoulin et al. 2017), as in Johnson et al. 2016.

Read top to bottom: train() sets a run up (the recipe, the runtime, the photos, the criteria, the starting
point), fit() is the loop, step() one optimizer step, finish() the final state and the run record. The recipe
lives in recipe.py, the runtime in runtime.py, the starting point in start.py, checkpoints in checkpoint.py,
the run record in record.py, the metrics file, progress bar and samples in runlog.py, the run folder's layout
in runfolder.py. Runs on one CPU or GPU, or under `torchrun` with DistributedDataParallel.
"""

import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from . import checkpoint as ckpt
from . import record
from .data import EpochSampler, PhotoDataset, find_images, load_style_image
from .distillation import Distillation
from .losses import DEFAULT_WEIGHTS, Losses, PerceptualLoss
from .model import count_parameters
from .recipe import PRECISIONS, TrainConfig, check  # noqa: F401 - PRECISIONS, TrainConfig: the trainer's API
from .runfolder import RunFolder
from .runlog import RunLog, load_samples, sample_photo_paths, save_samples
from .runtime import (  # noqa: F401 - native_bf16: the trainer's API
    Process,
    StopRequested,
    autocast_context,
    native_bf16,
    resolve_precision,
    seed_everything,
    start_process,
    stop_votes,
)
from .stability import ShiftConsistency
from .start import Resumed, new_network, resume, teacher_for, with_base_width
from .vgg import LAYER_NAMES, load_loss_network

log = logging.getLogger("training")


def validate(config: TrainConfig):
    """Fail before any work starts: missing inputs, impossible settings."""
    for image in config.style_images:
        if not Path(image).is_file():
            raise FileNotFoundError(f"style image not found: {image}")
    check(config)
    find_images(config.dataset)  # raises on a missing or empty folder
    if config.content_layer not in LAYER_NAMES:
        raise ValueError(f"--content-layer must be one of {', '.join(LAYER_NAMES)}")


def resolve_loss_weights(config: TrainConfig, preprocessing: str) -> dict:
    defaults = DEFAULT_WEIGHTS[preprocessing]
    style = defaults["style"] if config.style_weight is None else config.style_weight
    return {
        "content": defaults["content"] if config.content_weight is None else config.content_weight,
        "style": [float(style)] * len(config.style_images) if isinstance(style, int | float) else list(style),
        "tv": defaults["tv"] if config.tv_weight is None else config.tv_weight,  # one, or a list per style
        "tv_abs": config.tv_abs_weight,
    }


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


class Photos:
    """The training photos in batches. The sampler, not the loader, decides the order, so a resume can start
    mid-epoch."""

    def __init__(self, config: TrainConfig, proc: Process):
        self.dataset = PhotoDataset(config.dataset, config.image_size, seed=config.seed)
        self.sampler = EpochSampler(len(self.dataset), config.batch_size, config.seed, proc.rank, proc.world_size)
        self.loader_args = dict(batch_size=config.batch_size, sampler=self.sampler, num_workers=config.workers,
                                pin_memory=proc.device.type == "cuda", drop_last=True)
        if config.workers > 0:
            self.loader_args["prefetch_factor"] = 4
        self.total_steps = config.total_steps(self.sampler.batches_per_epoch)

    def epoch_from(self, step: int):
        """(epoch, its batches from `step` on)."""
        epoch, batch_in_epoch = divmod(step, self.sampler.batches_per_epoch)
        self.sampler.set_position(epoch, batch_in_epoch)
        self.dataset.set_epoch(epoch)
        return epoch, torch.utils.data.DataLoader(self.dataset, **self.loader_args)


@dataclass
class Batch:
    """One step's photos and styles, and what the network made of them: what each criterion reads."""

    content: torch.Tensor
    styles: torch.Tensor | None
    output: torch.Tensor | None = None
    moved_output: torch.Tensor | None = None  # the moved frames' output (stability.py)
    shift: tuple | None = None


class Run:
    """What the loop carries and a checkpoint saves: the network, its optimizer, the step, the record so far."""

    def __init__(self, config: TrainConfig, proc: Process, weights: dict, memory_format):
        self.config, self.proc, self.weights, self.memory_format = config, proc, weights, memory_format
        self.folder = RunFolder(config.out)
        start = new_network(config, proc.device, memory_format)
        self.net, self.trained_styles = start.net, start.trained_styles
        self.teacher = teacher_for(config, proc.device, memory_format)
        self.optimizer = torch.optim.Adam([p for p in self.net.parameters() if p.requires_grad], lr=config.lr)
        self.scaler = torch.amp.GradScaler(proc.device.type, enabled=config.precision == "fp16")
        self.resumed: Resumed = resume(config, self.folder.path, proc.device, self.net, self.optimizer, self.scaler,
                                       asdict(config))
        self.ancestry = start.ancestry if self.resumed.ancestry is None else self.resumed.ancestry
        self.step = self.first_step = self.resumed.step
        self.started, self.cpu_started = time.perf_counter(), time.process_time()

    def wall_s(self) -> float:
        return self.resumed.wall_s + time.perf_counter() - self.started

    def segments(self) -> list:
        """Every segment of the run so far, this one last: the compute record a model card reports."""
        return [*self.resumed.segments, record.segment_record(
            self.config, self.weights, self.proc.device, self.proc.world_size, self.first_step, self.step,
            time.perf_counter() - self.started, time.process_time() - self.cpu_started)]

    def state(self, **extra) -> dict:
        """The checkpoint: everything an exact resume needs, and the record so far."""
        return {"format": ckpt.CHECKPOINT_FORMAT, "step": self.step, "model": self.net.state_dict(),
                "optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict(),
                "rng": ckpt.rng_states(), "config": asdict(self.config), "loss_weights": self.weights,
                "wall_time_s": self.wall_s(), "resumed_at_steps": self.resumed.resumed_at,
                "segments": self.segments(), "lineage": self.ancestry, **extra}

    def save_checkpoint(self):
        ckpt.save_checkpoint(self.state(), self.folder.path, self.config.keep_checkpoints)


def train(config: TrainConfig) -> dict:
    validate(config)
    proc = start_process(config.device)
    config = replace(config, precision=resolve_precision(config.precision, proc.device))  # what the records say
    if proc.is_main:
        Path(config.out).mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    photos = Photos(config, proc)

    # The loss network, every painting's style targets, and the criteria the loop adds to eq. (1).
    loss_network = load_loss_network(config.vgg_weights).to(proc.device, memory_format=memory_format)
    weights = resolve_loss_weights(config, loss_network.preprocessing.name)
    paintings = [load_style_image(p, config.style_size).to(proc.device) for p in config.style_images]
    criterion = PerceptualLoss(loss_network, paintings, config.content_layer, weights["content"],
                               weights["style"], weights["tv"], tv_abs_weight=weights["tv_abs"]).to(proc.device)

    # The starting point: a new network or trained weights, a teacher, the state of an earlier segment.
    run = Run(with_base_width(config), proc, weights, memory_format)
    criteria = []
    if run.teacher is not None:
        criteria.append(Distillation(run.teacher, loss_network, config.teacher_weight, config.teacher_features_weight))
    if config.shift_weight > 0:
        criteria.append(ShiftConsistency(config.shift_noise, weight=config.shift_weight))

    model = proc.wrap(run.net)
    if config.compile:
        model = torch.compile(model)
    samples = load_samples(sample_photo_paths(config.sample_images, photos.dataset.files), config.sample_size) \
        if proc.is_main else []
    if proc.is_main:
        log_start(run, photos, loss_network)
    stopped_early, run_log = fit(run, model, photos, criterion, criteria, samples)
    result = finish(run, photos.dataset, loss_network, run_log, stopped_early)
    proc.end()
    return result


def log_start(run: Run, photos: Photos, loss_network):
    config, net = run.config, run.net
    log.info("transformer: width %d, %d styles, %d parameters (%d trained); loss network: %s (%s); "
             "%d photos (%d skipped); %d steps of %d x %d images at %d px on %s, precision %s",
             config.width, net.num_styles, count_parameters(net),
             sum(p.numel() for p in net.parameters() if p.requires_grad), loss_network.source,
             loss_network.preprocessing.name, len(photos.dataset), len(photos.dataset.skipped), photos.total_steps,
             config.batch_size, run.proc.world_size, config.image_size, run.proc.device, config.precision)


def fit(run: Run, model, photos: Photos, criterion, criteria: list, samples: list) -> tuple[bool, RunLog]:
    """The loop, until the last step or a stop request; returns (stopped early, the run's log)."""
    config, proc, total = run.config, run.proc, photos.total_steps
    run_log = RunLog(run.folder.path, total, run.step, config.batch_size * proc.world_size, enabled=proc.is_main)
    with StopRequested() as stop, run_log:
        model.train()
        while run.step < total:
            epoch, batches = photos.epoch_from(run.step)
            for content in batches:
                losses = step(run, model, content, criterion, criteria)
                run.step += 1

                run_log.step(run.step, epoch, losses, run.optimizer.param_groups[0]["lr"],
                             log_now=run.step % config.log_every == 0 or run.step == total)
                if proc.is_main and (run.step % config.sample_every == 0 or run.step == total):
                    save_samples(run.net, samples, run.net.num_styles, proc.device, run.folder.samples, run.step)
                if proc.is_main and run.step % config.checkpoint_every == 0 and run.step < total:
                    run.save_checkpoint()
                if stop_votes(stop.requested, proc):
                    if proc.is_main:
                        run.save_checkpoint()
                    return True, run_log
                if run.step >= total:
                    break
    return False, run_log


def step(run: Run, model, content: torch.Tensor, criterion: PerceptualLoss, criteria: list) -> Losses:
    """One optimizer step on a batch of photos: each draws a style; with the shift criterion, the same photos as
    the next frame of a moving camera go through the network in the same batch."""
    config, device = run.config, run.proc.device
    content = content.to(device, non_blocking=True).contiguous(memory_format=run.memory_format)
    styles = None
    if run.net.num_styles > 1:
        styles = draw_styles(run.trained_styles, len(content), config.seed, run.step, run.proc.rank,
                             config.style_share).to(device)
    batch = Batch(content, styles)
    stability = next((c for c in criteria if isinstance(c, ShiftConsistency)), None)
    if stability is not None:
        frames, batch.shift = stability.frames(content, torch.Generator().manual_seed(config.seed + run.step))
    with autocast_context(device, config.precision):
        if stability is None:
            batch.output = model(content, styles)
        else:
            both = model(torch.cat([content, frames]), styles if styles is None else styles.repeat(2))
            batch.output, batch.moved_output = both.split(len(content))
        losses = criterion(batch.output, content, styles)
        for extra in criteria:
            extra.add_to(losses, batch)
    losses.features = None  # the loss network's activations: freed before the next batch
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(losses.total).backward()
    run.scaler.step(run.optimizer)
    run.scaler.update()
    return losses


def finish(run: Run, dataset, loss_network, run_log: RunLog, stopped_early: bool) -> dict:
    """The final state and the training summary (main process), or a note on how to resume."""
    result = {"step": run.step, "stopped_early": stopped_early}
    if not run.proc.is_main:
        return result
    if stopped_early:
        log.warning("stopped at step %d; resume with --resume latest", run.step)
        return result
    ckpt.atomic_save(run.state(final=True), run.folder.final)
    segments = run.segments()
    summary = record.training_summary(run.config, dataset, loss_network, run.weights, run.step,
                                      run_log.final_losses(), run.wall_s(), run.proc.device,
                                      run.resumed.resumed_at, run.proc.world_size, segments, run.ancestry)
    run.folder.summary.write_text(json.dumps(summary, indent=2) + "\n")
    result["summary"] = summary
    log.info("done: %s", run.folder.final)
    return result
