"""The training job of a user style: train in phases, then export. No HTTP, no AWS: it reads its inputs
from paths and writes everything into its run folder, the same here (the local worker) and in a SageMaker
training container (run folder /opt/ml/checkpoints, which SageMaker copies to the job's S3 prefix as it
changes).

    python -m stylejobs.entry --painting P.png --dataset PHOTOS --run RUN --style-id user-... --name NAME
        --phases 200@128,1800@256 [--base-network bundled.onnx|none] [--vgg-weights FILE] [--gpus N|auto] ...

Each phase is one `python -m training train` segment into RUN (its steps are counted on from the last one's,
its crops may be larger); the first starts from the base network's shared weights and trains only the new
style's instance-norm scales and shifts. A run cut off (SIGTERM: a cancel, a stopped local stack, a spot
interruption) exits 130 with a checkpoint saved, and the next start resumes it. At the end the exporter
writes RUN/model/<style id>.onnx and its card; with a base network, that file holds the base's styles too
(`python -m export --join`), so the new style blends with them. Several GPUs: each phase runs under torchrun.
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

INTERRUPTED = 130


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m stylejobs.entry", description=__doc__.splitlines()[0])
    p.add_argument("--painting", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--style-id", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--phases", required=True, help="STEPS@CROP,...: e.g. 200@128,1800@256")
    p.add_argument("--max-steps", type=int, help="a ceiling on the total steps, whatever --phases says")
    p.add_argument("--base-network", default="none", help="an fp32 multi-style ONNX file or checkpoint, or none")
    p.add_argument("--vgg-weights", default="torchvision")
    p.add_argument("--sample-image", help="the photo the previews show (default: one of the dataset's)")
    p.add_argument("--gpus", default="0", help="N, or auto (SageMaker's SM_NUM_GPUS): over 1 runs torchrun")
    for name, kind in (("batch-size", int), ("width", int), ("lr", float), ("style-weight", float),
                       ("content-weight", float), ("tv-weight", float), ("sample-every", int), ("sample-size", int),
                       ("checkpoint-every", int), ("workers", int), ("style-size", int)):
        p.add_argument(f"--{name}", type=kind)
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="auto", help="the trainer's: auto is bf16 where the hardware has it")
    return p.parse_args(argv)


def current_step(run: Path) -> tuple[int, str | None]:
    """(step reached, the file to resume from): the newest of the last checkpoint and a finished segment."""
    best = (0, None)
    summary = run / "training_summary.json"
    if summary.is_file() and (run / "final.pth").is_file():
        best = (json.loads(summary.read_text())["steps"], str(run / "final.pth"))
    for checkpoint in (run / "checkpoints").glob("step_*.pth"):
        step = int(checkpoint.stem.split("_")[1])
        if step > best[0]:
            best = (step, str(checkpoint))
    return best


def train_command(args, steps: int, crop: int, resume: str | None, gpus: int) -> list:
    command = ["-m", "training", "train", "--dataset", args.dataset, "--style-image", args.painting,
               "--style-ids", args.style_id, "--out", args.run, "--iterations", str(steps), "--image-size", str(crop),
               "--vgg-weights", args.vgg_weights, "--device", args.device, "--precision", args.precision,
               "--log-every", "1" if steps < 100 else "5"]
    for name in ("batch_size", "width", "lr", "style_weight", "content_weight", "tv_weight", "sample_every",
                 "sample_size", "checkpoint_every", "workers", "style_size"):
        if getattr(args, name) is not None:
            command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.sample_image:
        command += ["--sample-images", args.sample_image]
    if args.base_network != "none":
        command += ["--init-from", args.base_network, "--finetune-new-styles"]
    if resume:
        command += ["--resume", resume]
    launcher = [sys.executable] if gpus <= 1 else [sys.executable, "-m", "torch.distributed.run",
                                                     f"--nproc_per_node={gpus}"]
    return launcher + command


def export_command(args) -> list:
    """The exporter's command: a style fine-tuned from a base network is joined to it (its file holds the base's
    styles too, so that it blends with them)."""
    model = Path(args.run) / "model"
    model.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "export", str(Path(args.run) / "final.pth"), "--out",
               str(model / f"{args.style_id}.onnx"), "--name", args.name, "--style-image", args.painting,
               "--style-license", "uploaded by its owner, who holds the rights to use it",
               "--dataset-license", "see the deployment's training photos"]
    return command + (["--join", args.base_network] if args.base_network != "none" else [])


def own_copy_of_base(args, run_dir: Path) -> None:
    """The job keeps its own copy of the base network in its run folder, taken at its first start: the new style
    is joined to exactly the network it was trained from, even if a newer one ships while the job runs."""
    if args.base_network == "none":
        return
    kept = run_dir / f"base_network{Path(args.base_network).suffix}"
    if not kept.is_file():
        partial = kept.with_name(kept.name + ".partial")
        shutil.copyfile(args.base_network, partial)
        os.replace(partial, kept)
    args.base_network = str(kept)


def gpu_count(text: str) -> int:
    if text == "auto":
        return int(os.environ.get("SM_NUM_GPUS", "0") or 0)
    return int(text)


def die_with_parent():
    """In a child, before exec: SIGTERM when the process that started it dies (Linux), so that no trainer is
    left running when whatever drove it is gone."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_DEATHSIG
    except OSError:
        pass


def run(command: list) -> int:
    """A child process that stops when we are told to (SIGTERM is passed on, so it can save a checkpoint)."""
    process = subprocess.Popen(command, preexec_fn=die_with_parent)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signal.SIGTERM))
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    from .jobs import parse_phases

    args = parse_args(argv)
    run_dir = Path(args.run)
    run_dir.mkdir(parents=True, exist_ok=True)
    own_copy_of_base(args, run_dir)
    gpus = gpu_count(args.gpus)
    target = 0
    for steps, crop in parse_phases(args.phases):
        target += steps
        if args.max_steps:
            target = min(target, args.max_steps)
        reached, resume = current_step(run_dir)
        if reached >= target:
            continue
        print(f"stylejobs.entry: phase to step {target} at {crop} px (from step {reached})", flush=True)
        code = run(train_command(args, target, crop, resume, gpus))
        if code != 0:
            return INTERRUPTED if code in (INTERRUPTED, -15) else code
    print("stylejobs.entry: exporting", flush=True)
    return run(export_command(args))


if __name__ == "__main__":
    sys.exit(main())
