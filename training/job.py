"""The training job of a user style: train in phases, then export. No HTTP, no AWS: it reads its inputs
from paths and writes everything into its run folder, the same on the local stack's worker and in a SageMaker
training container (run folder /opt/ml/checkpoints, which SageMaker copies to the job's S3 prefix as it
changes).

    python -m training.job --painting P.png --dataset PHOTOS --run RUN --style-id user-... --name NAME
        --phases 200@128,1800@256 [--base-network bundled.onnx|none] [--gpus N|auto] [trainer options] ...

Each phase is one `python -m training train` segment into RUN (its steps are counted on from the last one's,
its crops may be larger); the first starts from the base network's shared weights and trains only the new
style's instance-norm scales and shifts. A run cut off (SIGTERM: a cancel, a stopped local stack, a spot
interruption) exits 130 with a checkpoint saved, and the next start resumes it. At the end the exporter
writes RUN/model/<style id>.onnx and its card from the furthest checkpoint; with a base network, that file holds
the base's styles too (`python -m export --join`), so the new style blends with them. Several GPUs: each phase
runs under torchrun.

Finishing early ("Use it now"): when RUN/finish exists (the local engine writes it, then sends SIGTERM), a
stopped run is exported as at the normal end and the job exits 0; a job started with it there exports at once.
With --on-stop export (SageMaker, whose StopTrainingJob cannot say why it stops) every stopped run is exported,
and copied to SM_MODEL_DIR, which SageMaker uploads even for a Stopped job; the job's record decides whether it
was a finish or a cancel. SIGTERM never interrupts an export that a finish asked for.

The jobs function (lambda_jobs/stylejobs) writes this command line: its engines' one function for it is
stylejobs.jobs.job_arguments. The trainer options it takes are recipe.py's, by the same names. It passes the
style's name as --name-b64 (base64url of its UTF-8): on SageMaker the prebuilt container's toolkit runs this
command line through /bin/sh, which must never see a user's text.
"""

import argparse
import base64
import binascii
import ctypes
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from . import recipe
from .runfolder import RunFolder

INTERRUPTED = 130
FAILED = 2
SAGEMAKER_OUTPUT = Path("/opt/ml/output")  # SageMaker reads output/failure as the job's FailureReason
# The trainer's settings a job may set (recipe.py's names); the job itself sets the paintings, the run folder,
# the steps and crops of each phase, the starting point and the logging.
TRAINER_SETTINGS = ("batch_size", "width", "lr", "style_weight", "content_weight", "tv_weight", "sample_every",
                    "sample_size", "checkpoint_every", "workers", "style_size", "device", "precision", "vgg_weights")
JOB_DEFAULTS = {"precision": "auto"}  # bf16 where the hardware has it; the others: the trainer's defaults


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.job", description=__doc__.splitlines()[0])
    p.add_argument("--painting", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--style-id", required=True)
    named = p.add_mutually_exclusive_group(required=True)
    named.add_argument("--name", help="the style's name")
    named.add_argument("--name-b64", type=name_of_token, dest="name",
                       help="the style's name as base64url of its UTF-8 (what the jobs function passes)")
    p.add_argument("--phases", required=True, help="STEPS@CROP,...: e.g. 200@128,1800@256")
    p.add_argument("--max-steps", type=int, help="a ceiling on the total steps, whatever --phases says")
    p.add_argument("--base-network", default="none", help="an fp32 multi-style ONNX file or checkpoint, or none")
    p.add_argument("--sample-image", help="the photo the previews show (default: one of the dataset's)")
    p.add_argument("--gpus", default="0", help="N, or auto (SageMaker's SM_NUM_GPUS): over 1 runs torchrun")
    p.add_argument("--on-stop", choices=("checkpoint", "export"), default="checkpoint",
                   help="on SIGTERM: save a checkpoint and exit (to resume), or also export the furthest checkpoint "
                        "(where the job cannot be told whether it is being finished or cancelled)")
    trainer = p.add_argument_group("the trainer's settings (python -m training train --help)")
    for name in TRAINER_SETTINGS:
        recipe.add_option(trainer, name, JOB_DEFAULTS.get(name))
    return p.parse_args(argv)


def name_of_token(token: str) -> str:
    """The name stylejobs.jobs.name_token encoded (base64url of UTF-8, padding optional)."""
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise argparse.ArgumentTypeError(f"not base64url of UTF-8 text: {token[:80]!r}") from None


def parse_phases(text: str) -> tuple:
    """200@128,1800@256 -> ((200, 128), (1800, 256)): each phase's steps and crop size."""
    phases = []
    for part in text.split(","):
        steps, _, size = part.partition("@")
        phases.append((int(steps), int(size)))
    if not phases or any(steps < 1 or size < 16 for steps, size in phases):
        raise ValueError(f"phases {text!r}: STEPS@SIZE,... with steps >= 1 and sizes >= 16")
    return tuple(phases)


def phase_config(args, steps: int, crop: int, resume) -> recipe.TrainConfig:
    """The trainer's recipe for a phase that ends at step `steps`, on crops of `crop` pixels."""
    base = args.base_network != "none"
    return recipe.TrainConfig(
        dataset=args.dataset, style_images=[args.painting], style_ids=[args.style_id], out=args.run,
        iterations=steps, image_size=crop, log_every=1 if steps < 100 else 5,
        sample_images=[args.sample_image] if args.sample_image else [],
        init_from=args.base_network if base else None, finetune_new_styles=base,
        resume=None if resume is None else str(resume), **recipe.settings_of(args, TRAINER_SETTINGS))


def train_command(args, steps: int, crop: int, resume, gpus: int) -> list:
    launcher = [sys.executable] if gpus <= 1 else [sys.executable, "-m", "torch.distributed.run",
                                                     f"--nproc_per_node={gpus}"]
    return launcher + ["-m", "training", "train", *recipe.arguments(phase_config(args, steps, crop, resume))]


def export_command(args, checkpoint) -> list:
    """The exporter's command: a style fine-tuned from a base network is joined to it (its file holds the base's
    styles too, so that it blends with them)."""
    model = Path(args.run) / "model"
    model.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "export", str(checkpoint), "--out",
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


class StopSignal:
    """SIGTERM to the job, for the whole of its life: remembered (no phase starts after it), and passed on to the
    child running now so that a trainer saves a checkpoint and exits 130, unless `keep_running()` says that the
    child is an export the stop itself asks for."""

    def __init__(self):
        self.requested = False
        self._child, self._keep_running = None, None

    def __enter__(self) -> "StopSignal":
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, self._previous)

    def _handle(self, signum, frame):
        self.requested = True
        if self._child is not None and not (self._keep_running and self._keep_running()):
            self._child.send_signal(signal.SIGTERM)

    def run(self, command: list, keep_running=None) -> int:
        """A child process that a SIGTERM stops, unless keep_running() is then true."""
        self._keep_running = keep_running  # first: a signal may come as soon as the child exists
        self._child = subprocess.Popen(command, preexec_fn=die_with_parent)
        if self.requested:  # it came after the last look and before the child: the child stops too
            self._handle(signal.SIGTERM, None)
        try:
            return self._child.wait()
        finally:
            self._child = None


def fail(sentence: str) -> int:
    """A failure the job's owner reads: one `training.job: error:` line in the log (the local engine takes it as
    the job's error), and SageMaker's failure file where there is one (its FailureReason)."""
    print(f"training.job: error: {sentence}", flush=True)
    if SAGEMAKER_OUTPUT.is_dir():
        (SAGEMAKER_OUTPUT / "failure").write_text(sentence)
    return FAILED


def missing_inputs(args) -> str | None:
    """A sentence when an input the trainer needs is not there, before a trainer starts and fails with a
    traceback."""
    if args.vgg_weights not in (None, "torchvision", "random") and not Path(args.vgg_weights).is_file():
        return (f"The loss network's weights (VGG16, {Path(args.vgg_weights).name}) are not on this machine: the "
                "local stack builds them with `make vgg-weights` (make dev-train does), then start the job again.")
    if not Path(args.painting).is_file():
        return "The job's painting is missing from its folder: delete the job and upload the painting again."
    return None


def train(args, run_dir: Path, stop: StopSignal) -> int:
    """Each phase not yet reached, in turn: 0 when the last is done, INTERRUPTED when stopped."""
    gpus = gpu_count(args.gpus)
    target = 0
    for steps, crop in parse_phases(args.phases):
        target += steps
        if args.max_steps:
            target = min(target, args.max_steps)
        reached, resume = RunFolder(run_dir).furthest()
        if reached >= target:
            continue
        if stop.requested:  # stopped between two phases: the next one never starts
            return INTERRUPTED
        print(f"training.job: phase to step {target} at {crop} px (from step {reached})", flush=True)
        code = stop.run(train_command(args, target, crop, resume, gpus))
        if code != 0:
            return INTERRUPTED if code in (INTERRUPTED, -15) else code
    return 0


def finish_requested(run_dir: Path) -> bool:
    return RunFolder(run_dir).finish_request.exists()


def exports_when_stopped(args, run_dir: Path) -> bool:
    return args.on_stop == "export" or finish_requested(run_dir)


def export(args, run_dir: Path, stop: StopSignal) -> int:
    """The furthest checkpoint to RUN/model/, as the style; a stop lets it run on where a finish asks for it."""
    step, checkpoint = RunFolder(run_dir).furthest()
    if checkpoint is None:
        return fail("The job was stopped before its first checkpoint: there is nothing learned to use yet.")
    print(f"training.job: exporting the checkpoint of step {step}", flush=True)
    code = stop.run(export_command(args, checkpoint), keep_running=lambda: exports_when_stopped(args, run_dir))
    if code == 0 and stop.requested:
        copy_to_model_dir(run_dir / "model")
    return code


def copy_to_model_dir(model: Path) -> None:
    """The style into SageMaker's model folder (SM_MODEL_DIR), which it uploads even when it stopped the job: its
    checkpoint folder may no longer be copied out once the stop has begun."""
    model_dir = os.environ.get("SM_MODEL_DIR")
    if model_dir:
        Path(model_dir).mkdir(parents=True, exist_ok=True)
        for path in model.iterdir():
            shutil.copyfile(path, Path(model_dir) / path.name)


def main(argv=None) -> int:
    args = parse_args(argv)
    if sentence := missing_inputs(args):
        return fail(sentence)
    run_dir = Path(args.run)
    run_dir.mkdir(parents=True, exist_ok=True)
    own_copy_of_base(args, run_dir)
    with StopSignal() as stop:
        code = 0 if finish_requested(run_dir) else train(args, run_dir, stop)
        if code == INTERRUPTED and exports_when_stopped(args, run_dir):
            exported = export(args, run_dir, stop)
            # a finish ends the job; a stop for any other reason still resumes from the checkpoint
            return exported if exported != 0 or finish_requested(run_dir) else INTERRUPTED
        if code != 0:
            return code
        return export(args, run_dir, stop)


if __name__ == "__main__":
    sys.exit(main())
