"""Where a run executes: its device and processes (one, or one per GPU under `torchrun` with
DistributedDataParallel), its precision, its seeds, and how it is asked to stop."""

import contextlib
import logging
import os
import signal
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

log = logging.getLogger("training")


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

    def wrap(self, net: torch.nn.Module) -> torch.nn.Module:
        """The network as this process trains it: under DDP, its gradients averaged over the processes."""
        if not self.distributed:
            return net
        return torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def end(self):
        if self.distributed:
            dist.barrier()
            dist.destroy_process_group()


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


def stop_votes(requested: bool, proc: Process) -> bool:
    """Whether to stop after this step. Under DDP every rank stops at the same step, or the collectives hang."""
    if not proc.distributed:
        return requested
    votes = torch.tensor(float(requested), device=proc.device)
    dist.all_reduce(votes)
    return votes.item() > 0


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
