"""Train, export and bundle the styles that ship with the project: one multi-style network for every
painting of the catalog (scripts/bundled_styles.json), so that one file and one session serve them all
and any two blend.

    .venv/bin/python scripts/ship_styles.py --iterations 40000              # train (or resume), then export
    .venv/bin/python scripts/ship_styles.py --export-only                   # export the furthest state
    .venv/bin/python scripts/ship_styles.py --export-only --checkpoint runs/bundled-w12/checkpoints/step_N.pth
    .venv/bin/python scripts/ship_styles.py --init-from other.onnx --iterations 2000   # a fresh run from weights

The run is runs/bundled-w<width> (resumed when interrupted, extended when finished); on a new machine it
resumes exactly from the committed checkpoint of the shipped network (models/campaign/bundled.pth, which
every export into models/ updates), whichever of the two is further. A narrower --width than a committed
network's starts a new run from the widest, narrowed (training/narrow.py), that also learns to match its outputs
(--teacher: distillation), and its card counts the wider run's compute too (the lineage); --keep-progress
commits such a run's state (models/campaign/bundled-w<width>.pth) for a new machine to continue. Shipping a
network of another width keeps the one it replaces there too: the width-16 network, which passed the bar first,
is bundled-w16.pth, the teacher of the served width-12 one. The export writes
models/bundled.onnx, served as it is (fp32: at half width int8 was no faster on either CPU measured,
docs/benchmarks.md) and what --init-from continues from, with the card models/bundled.json. Every setting
used, and every training segment's compute, is recorded in the card by the trainer and exporter;
scripts/val_quality.py --card adds each style's verdict on the val photos.
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import onnx
import torch
from stylecore.modelfiles import card_path, read_card, write_card

from training.model import architecture, clean_state_dict
from training.recipe import PRECISIONS, TrainConfig, arguments, read_catalog
from training.runfolder import RunFolder

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
CATALOG = ROOT / "scripts" / "bundled_styles.json"
NETWORK_ID = "bundled"
RUNS = ROOT / "runs"
CAMPAIGN_CHECKPOINT = ROOT / "models" / "campaign" / f"{NETWORK_ID}.pth"  # committed: a new machine resumes it
DATASET_LICENSE = ("trained on ../shared/assets/photos/train (ImageNet samples, BSDS500, Urban100, SUN; "
                   "research-use licences): for research and demonstration")
# The recipe measured to beat a fully trained reference network on this CPU (docs/model-quality.md): the
# half-width network at 128-px crops, caffe-scale weights content 1, style 3, TV 0.2. Each style's own weights
# (style, TV, absolute TV, how often it is drawn) are in the catalog, under "training"; why each has the value it
# has, segment by segment, is in models/campaign/README.md.


class Network(NamedTuple):
    """Which network a run trains (training/model.py): its width, whether it is antialiased, and whether it has
    the detail path."""

    width: int
    antialias: bool = False
    detail: bool = False

    @property
    def name(self) -> str:
        """Its run and progress name: the width, -aa for the antialiased network, -detail for the detail path."""
        return f"{NETWORK_ID}-w{self.width}" + ("-aa" if self.antialias else "") + ("-detail" if self.detail else "")

    @property
    def run_folder(self) -> Path:
        return RUNS / self.name

    @property
    def progress_checkpoint(self) -> Path:
        """Its state while in training (not served), committed by --keep-progress so that a new machine continues
        it."""
        return CAMPAIGN_CHECKPOINT.with_name(f"{self.name}.pth")

    @property
    def starts_from(self) -> "Network | None":
        """The network a first run of this one starts from: the same weights with less (new parts start neutral)."""
        if self.detail:
            return self._replace(detail=False)
        return self._replace(antialias=False) if self.antialias else None


def teacher_for(width: int) -> Path | None:
    """The widest committed network wider than `width` (the shipped one, or one kept for teaching), which a
    narrower run starts from (narrowed) and distils: the width-16 network taught the width-12 one."""
    committed = [CAMPAIGN_CHECKPOINT, *CAMPAIGN_CHECKPOINT.parent.glob(f"{NETWORK_ID}-w*.pth")]
    wider = [(its_width, path) for path in committed if path.exists()
             for its_width in [network_shape(path)[1].width] if its_width > width]
    return max(wider)[1] if wider else None


def latest_state(network: Network) -> tuple[int, Path | None]:
    """The furthest-trained state of this network: the run's final.pth or a later checkpoint (an extension cut
    short), or a committed campaign checkpoint (a new machine, or a run folder behind it)."""
    run = RunFolder(network.run_folder)
    candidates = [run.final, *run.saved_checkpoints()[-1:], CAMPAIGN_CHECKPOINT, network.progress_checkpoint]
    found = [(step, path) for path in filter(Path.exists, candidates)
             for step, its_network in [network_shape(path)] if its_network == network]
    return max(found, key=lambda pair: pair[0]) if found else (0, None)


def network_shape(checkpoint_path: Path) -> tuple[int, Network]:
    """(step, network) of a checkpoint."""
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    shape = architecture(clean_state_dict(checkpoint["model"]))
    return checkpoint["step"], Network(shape["width"], shape["antialias"], shape["detail"])


def recipe(args, state: Path | None) -> TrainConfig:
    """This segment's recipe: the catalog's paintings with their own weights (the others: the command line's), and
    where it starts from."""
    network = args.network
    run = network.run_folder
    images, ids = read_catalog(CATALOG, SHARED / "styles")
    tuned = {s["id"]: s.get("training", {}) for s in json.loads(CATALOG.read_text())["styles"]}
    per_style = lambda name, default: [float(tuned[i].get(name, default)) for i in ids]
    init_from, teacher = args.init_from, teacher_for(network.width)
    taught = teacher and (args.teacher_weight or args.teacher_features_weight)  # both 0: no distillation
    if not init_from and network.starts_from:  # the same weights without its low-pass filters or detail path
        init_from = latest_state(network.starts_from)[1]
    if not init_from and teacher:
        init_from = teacher  # a network narrower than a committed one starts from the widest, narrowed
    # the weights (narrowed when wider) and their lineage a run at a new width started from; given again on a
    # resume so that a checkpoint from before lineage was recorded still gets it
    start = init_from if init_from and (not state or run in state.parents) else None
    return TrainConfig(
        dataset=str(args.dataset), style_images=images, style_ids=ids, out=str(run), iterations=args.iterations,
        batch_size=args.batch_size, lr=args.lr, image_size=args.image_size, width=network.width,
        antialias=network.antialias, detail=network.detail,
        style_size=args.style_size, vgg_weights=str(args.vgg_weights), content_weight=args.content_weight,
        style_weight=per_style("style_weight", args.style_weight), tv_weight=per_style("tv_weight", args.tv_weight),
        tv_abs_weight=per_style("tv_abs_weight", args.tv_abs_weight), style_share=per_style("style_share", 1.0),
        shift_weight=args.shift_weight, shift_noise=args.shift_noise, precision=args.precision,
        workers=args.workers, sample_every=250, checkpoint_every=100, sample_images=args.sample_images,
        init_from=str(start) if start else None,
        # and learns from its outputs too (distillation: segments 18 and 21, docs/model-quality.md)
        teacher=str(teacher) if taught else None, teacher_weight=args.teacher_weight if taught else 0.0,
        teacher_features_weight=args.teacher_features_weight if taught else 0.0,
        # resume from where the run got furthest: its last checkpoint, or a finished run's final state
        resume=str(state) if state else None)


def train(args) -> Path:
    run = RunFolder(args.network.run_folder)
    done, state = latest_state(args.network)
    if done >= args.iterations and state == run.final:
        print(f"{NETWORK_ID}: already trained ({done} steps)")
        return state
    command = [sys.executable, "-m", "training", "train", *arguments(recipe(args, state))]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    return run.final


def steady_state(shipped: Network) -> Path | None:
    """The furthest state of the antialiased network with the detail path of the shipped one's width, which the
    export adds as the steady variant (the live camera's and video's): None when there is none, or when it is the
    network being shipped."""
    steady = shipped._replace(antialias=True, detail=True)
    return None if steady == shipped else latest_state(steady)[1]


VERDICTS = ("val_quality", "stability")  # what scripts/val_quality.py --card records per style


def judged(out: Path) -> tuple[bytes, dict] | None:
    """The graph of the network exported at `out` now, with each style's verdicts on the val photos from its card."""
    card = card_path(out)
    if not out.is_file() or not card.is_file():
        return None
    styles = read_card(card).get("styles", [])
    return onnx.load(out).graph.SerializeToString(), {s["id"]: {k: s[k] for k in VERDICTS if k in s} for s in styles}


def keep_verdicts(out: Path, before: tuple[bytes, dict] | None):
    """A new export of the same network (the same graph, weights and all: a new variant beside it, say) keeps the
    verdicts measured on it, which take scripts/val_quality.py most of an hour to measure again."""
    if before is None or onnx.load(out).graph.SerializeToString() != before[0]:
        return
    path = card_path(out)
    card = read_card(path)
    for style in card.get("styles", []):
        style.update(before[1].get(style["id"], {}))
    write_card(card, path)
    print(f"{path}: the same network as before; each style's verdicts on the val photos are kept")


def export(checkpoint: Path, args):
    out = Path(args.out_dir) / f"{NETWORK_ID}.onnx"
    before = judged(out)
    steady = steady_state(network_shape(checkpoint)[1])
    command = [sys.executable, "-m", "export", str(checkpoint), "--out", str(out),
               "--name", "The bundled styles", "--catalog", str(CATALOG), "--style-license", "public domain",
               "--dataset-license", DATASET_LICENSE,
               # the served variant (the template's ModelsVariant default): the same network, faster on CPU,
               # judged against fp32 on the val photos (PSNR, content and style losses)
               "--halfres", "--eval-photos", str(SHARED / "photos" / "val"),
               *(["--steady", str(steady)] if steady else []), *args.export_args]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    keep_verdicts(out, before)
    if Path(args.out_dir).resolve() == (ROOT / "models").resolve() and checkpoint.resolve() != CAMPAIGN_CHECKPOINT:
        keep_replaced_width(network_shape(checkpoint)[1])
        shutil.copyfile(checkpoint, CAMPAIGN_CHECKPOINT)  # the shipped network's own state, to continue from
        print(f"{CAMPAIGN_CHECKPOINT}: the checkpoint of the shipped network (commit it with models/bundled.*)")


def keep_replaced_width(network: Network):
    """Shipping a network of another width: the one it replaces stays committed as bundled-w<its width>.pth (the
    teacher of narrower runs), and a kept state of the new network is superseded by the shipped one."""
    if CAMPAIGN_CHECKPOINT.exists() and (old_width := network_shape(CAMPAIGN_CHECKPOINT)[1].width) != network.width:
        shutil.copyfile(CAMPAIGN_CHECKPOINT, Network(old_width).progress_checkpoint)
        print(f"{Network(old_width).progress_checkpoint}: the width-{old_width} network it replaces (commit it)")
    network.progress_checkpoint.unlink(missing_ok=True)


def command_line() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=40000)
    parser.add_argument("--batch-size", type=int, default=4)
    # 128-px crops (the whole 256-px photo, scaled down) up to segment 21: 4x cheaper per step. The judge looks at
    # 512 px, and from segment 22 the width-12 network trained at 256 px: udnie's style ratio fell from 0.063 to
    # 0.039 in 440 steps, where 16,000 steps at 128 px had held it at 0.055-0.065 (docs/model-quality.md).
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--width", type=int, help="default: the committed network's (models/campaign), else 16")
    parser.add_argument("--antialias", action=argparse.BooleanOptionalAction,
                        help="the network without the 4-px lattice (training --help); default: the committed "
                             "network's. The first antialiased run starts from the plain network of its width")
    parser.add_argument("--detail", action=argparse.BooleanOptionalAction,
                        help="the network with the full-resolution detail path (training --help); default: the "
                             "committed network's. Its first run starts from the antialiased network of its width")
    parser.add_argument("--style-size", type=int, default=512)
    # Every segment up to 14 ran Adam at 1e-3. Segment 15 resumed width 16 at 1e-4 (docs/model-quality.md):
    # udnie's style fell from 0.051 to 0.046 in 3,100 steps, with the other styles held. Segments 22-23 (256 px)
    # ran 2e-4.
    parser.add_argument("--lr", type=float, default=TrainConfig.lr, help="Adam's learning rate for this segment")
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--style-weight", type=float, default=3.0, help="for the styles the catalog gives none")
    parser.add_argument("--tv-weight", type=float, default=0.2, help="for the styles the catalog gives none")
    parser.add_argument("--tv-abs-weight", type=float, default=0.0, help="for the styles the catalog gives none")
    parser.add_argument("--teacher-weight", type=float, default=100.0,
                        help="a run narrower than the shipped network matches the shipped one's outputs this much")
    parser.add_argument("--teacher-features-weight", type=float, default=1.0,
                        help="and the loss network's features of its outputs this much (training --help)")
    parser.add_argument("--shift-weight", type=float, default=0.0,
                        help="temporal stability: a photo moved by 1 to 3 px must give the moved output (training "
                             "--help); the motion segments' recipe is in models/campaign/README.md")
    parser.add_argument("--shift-noise", type=float, default=2.0, help="the moved frames' sensor noise (0..255)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="auto: bf16 on a GPU or a CPU with native bf16 (AMX), else off (an AVX2 CPU)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--dataset", default=str(SHARED / "photos" / "train"))
    parser.add_argument("--vgg-weights", default=str(ROOT / "weights" / "vgg16-caffe.pth"))
    parser.add_argument("--init-from", help="a fresh run starts from these weights (e.g. models/bundled.onnx)")
    parser.add_argument("--sample-images", nargs="*", default=[
        str(SHARED / "photos" / "val" / name) for name in ("bsds_100007.jpg", "bsds_103006.jpg")])
    parser.add_argument("--export-only", action="store_true", help="export the run's furthest state, train nothing")
    parser.add_argument("--checkpoint", help="with --export-only: this checkpoint (one judged on the val photos) "
                        "instead of the run's furthest")
    parser.add_argument("--keep-progress", action="store_true",
                        help="copy a narrower run's furthest state into models/campaign (commit it), train nothing")
    parser.add_argument("--out-dir", default=str(ROOT / "models"),
                        help="where the network goes: models/ (served) or models/campaign/ (still training)")
    parser.add_argument("--export-args", nargs=argparse.REMAINDER, default=[],
                        help="passed to python -m export (put last): e.g. --int8 --calibration-photos DIR")
    return parser


def main():
    parser = command_line()
    args = parser.parse_args()
    committed = network_shape(CAMPAIGN_CHECKPOINT)[1] if CAMPAIGN_CHECKPOINT.exists() else Network(16)
    given = {"width": args.width, "antialias": args.antialias, "detail": args.detail}
    network = args.network = committed._replace(**{k: v for k, v in given.items() if v is not None})
    if args.keep_progress:
        step, state = latest_state(network)
        if state is None or state == CAMPAIGN_CHECKPOINT:
            parser.error(f"no run of {network.name} in progress: nothing to keep")
        shutil.copyfile(state, network.progress_checkpoint)
        print(f"{network.progress_checkpoint}: step {step} of the {network.name} run (commit it)")
        return
    checkpoint = (Path(args.checkpoint) if args.checkpoint else latest_state(network)[1]) \
        if args.export_only else train(args)
    if checkpoint is None:
        parser.error(f"nothing to export: no run under {network.run_folder}")
    export(checkpoint, args)


if __name__ == "__main__":
    main()
