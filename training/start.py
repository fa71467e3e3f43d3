"""Where a run starts from: a new transformer network, a trained network's weights (--init-from, narrowed when
wider), only the new styles' scales and shifts trainable (--finetune-new-styles), a teacher (--teacher), or the
exact state of an earlier segment (--resume)."""

import logging
from dataclasses import dataclass, field, replace

import torch

from . import checkpoint as ckpt
from .model import TransformerNet, architecture
from .recipe import TrainConfig

log = logging.getLogger("training")


def freeze_all_but(net: TransformerNet, styles: list):
    """Train only these styles' gammas and betas: everything shared is frozen, other styles' rows get no gradient."""
    for p in net.shared_parameters():
        p.requires_grad_(False)
    mask = torch.zeros(net.num_styles, 1)
    mask[styles] = 1.0
    for norm in net.norm_layers():
        for p in (norm.weight, norm.bias):
            p.register_hook(lambda grad: grad * mask.to(grad.device))


def with_base_width(config: TrainConfig) -> TrainConfig:
    """New styles fine-tuned into a trained network train only their own scales and shifts: everything else is the
    base network's, so its width is the base's."""
    if not config.finetune_new_styles:
        return config
    return replace(config, width=architecture(ckpt.read_weights(config.init_from)[0])["width"])


@dataclass
class Start:
    """The network a run trains, which of its styles train, and the runs its weights came from."""

    net: TransformerNet
    trained_styles: list
    ancestry: list = field(default_factory=list)  # the runs whose weights this one started from (ckpt.lineage)


def new_network(config: TrainConfig, device, memory_format) -> Start:
    """The transformer network, from its initialisation or from --init-from's weights."""
    num_styles = len(config.style_images)
    net = TransformerNet(num_styles, config.width, config.antialias, config.detail)
    net = net.to(device, memory_format=memory_format)
    start = Start(net, list(range(num_styles)))
    if config.init_from:
        new_styles = ckpt.init_from(net, config.init_from, config.style_ids)
        start.ancestry = ckpt.lineage(config.init_from)
        if config.finetune_new_styles:
            if not new_styles:
                raise ValueError("--finetune-new-styles: every style is already in the --init-from network")
            freeze_all_but(net, new_styles)
            start.trained_styles = new_styles
    return start


def teacher_for(config: TrainConfig, device, memory_format):
    """The trained network whose outputs this one also learns to match, frozen (None without --teacher)."""
    if not config.teacher:
        return None
    return ckpt.load_teacher(config.teacher, config.style_ids).to(device, memory_format=memory_format)


@dataclass
class Resumed:
    """What a resumed run carries on from its checkpoint (all empty for a fresh run)."""

    step: int = 0
    wall_s: float = 0.0  # the earlier segments' wall time
    resumed_at: list = field(default_factory=list)
    segments: list = field(default_factory=list)  # the earlier segments' records
    ancestry: list | None = None  # the lineage the checkpoint recorded


def resume(config: TrainConfig, out, device, net, optimizer, scaler, settings: dict) -> Resumed:
    """Restore the state of --resume's checkpoint into the network, optimizer and grad scaler (and the RNGs)."""
    if not config.resume:
        return Resumed()
    path = ckpt.resume_path(config.resume, out)
    saved = ckpt.load_for_resume(path, device, net, optimizer, scaler, settings)
    log.info("resumed from %s at step %d", path, saved["step"])
    return Resumed(saved["step"], saved.get("wall_time_s", 0.0), [*saved.get("resumed_at_steps", []), saved["step"]],
                   saved.get("segments", []), saved.get("lineage"))
