"""How soon a user's own style looks like its painting on this CPU: the local worker's job, timed.

    .venv/bin/python benchmarks/own_style_preview.py PAINTING|grid [--minutes 30] [--base-network models/bundled.onnx]
        [--out artifacts/own_style_preview]

Runs exactly the command `make dev-train`'s worker runs for a new style (stylejobs.local.LocalEngine with
the default schedule: only the new style's instance-norm scales and shifts, from the bundled network's
shared weights, small crops first), on the devserver's defaults (../shared/assets/photos/train, the
converted VGG16, the gallery's cat as the preview photo), stops it after --minutes, and reports when each
preview was written (wall time since the job started), with a strip of the previews at 2, 5, 10, 20 and 30
minutes (`previews.jpg`) to look at. Not a test: the times depend on the machine and its load.

`grid` instead of a file paints a held-out style the bundled network has never seen: a composition of
primary-coloured rectangles between thick black bars (after Mondrian's grid paintings), made here.
"""

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lambda_jobs"), str(ROOT / "layers" / "common" / "python"), str(ROOT)]

from apicommon.store import LocalStore  # noqa: E402
from apicommon.userstyles import new_job_id, painting_key, run_prefix  # noqa: E402
from stylejobs.jobs import Job  # noqa: E402
from stylejobs.local import PYTHONPATH, LocalEngine  # noqa: E402
from stylejobs.painting import normalise_painting  # noqa: E402

MARKS_MIN = (2, 5, 10, 20, 30)


def previews(run: Path, started: float) -> list:
    """(minutes since the start, step, path) of every preview the run has written."""
    found = []
    for path in sorted((run / "samples").glob("step_*.jpg")):
        found.append(((path.stat().st_mtime - started) / 60, int(path.stem.split("_")[1]), path))
    return found


def strip(found: list, painting: Path, out: Path):
    """The painting, then the newest preview at each mark, labelled with its minute and step."""
    chosen = [max((p for p in found if p[0] <= mark), default=None, key=lambda p: p[0]) for mark in MARKS_MIN]
    cells = [("painting", Image.open(painting).convert("RGB"))]
    cells += [(f"{p[0]:.1f} min, step {p[1]}", Image.open(p[2]).convert("RGB")) for p in chosen if p]
    height = 256
    cells = [(label, image.resize((max(1, image.width * height // image.height), height))) for label, image in cells]
    sheet = Image.new("RGB", (sum(image.width for _, image in cells), height + 24), "white")
    x = 0
    for label, image in cells:
        sheet.paste(image, (x, 24))
        ImageDraw.Draw(sheet).text((x + 4, 6), label, fill="black")
        x += image.width
    sheet.save(out, quality=90)


def grid_painting(path: Path, side: int = 768, seed: int = 1):
    """Primary-coloured and white rectangles between thick black bars, split at random: a style unlike any
    of the bundled paintings, so that its preview says how fast a truly new style is learnt."""
    import random

    rng = random.Random(seed)
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    boxes = [(0, 0, side, side)]
    for _ in range(14):
        x0, y0, x1, y1 = boxes.pop(rng.randrange(len(boxes)))
        if x1 - x0 > y1 - y0 and x1 - x0 > 120:
            cut = rng.randint(x0 + 50, x1 - 50)
            boxes += [(x0, y0, cut, y1), (cut, y0, x1, y1)]
        elif y1 - y0 > 120:
            cut = rng.randint(y0 + 50, y1 - 50)
            boxes += [(x0, y0, x1, cut), (x0, cut, x1, y1)]
        else:
            boxes.append((x0, y0, x1, y1))
    colours = ["#d62718", "#1d3f9a", "#f4c820", "white", "white", "white", "#f2efe6"]
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0, y0, x1, y1), fill=rng.choice(colours), outline="black", width=14)
    image.save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("painting", type=Path)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--base-network", default=str(ROOT / "models" / "bundled.onnx"))
    parser.add_argument("--photos", default=str(ROOT.parent / "shared" / "assets" / "photos" / "train"))
    parser.add_argument("--vgg-weights", default=str(ROOT / "weights" / "vgg16-caffe.pth"))
    parser.add_argument("--sample-photo", default=str(ROOT / "sample_gallery" / "chelsea.jpg"))
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "own_style_preview")
    args = parser.parse_args()
    if str(args.painting) == "grid":
        args.out.mkdir(parents=True, exist_ok=True)
        args.painting = args.out / "grid.png"
        grid_painting(args.painting)

    store = LocalStore(args.out / "jobs")
    engine = LocalEngine(store, photos=args.photos, base_network=args.base_network, vgg_weights=args.vgg_weights,
                         sample_photo=args.sample_photo)
    png, _ = normalise_painting(args.painting.read_bytes())
    job = Job(id=new_job_id(), owner="benchmark", name=args.painting.stem, total_steps=engine.total_steps)
    store.put(painting_key(job.id), png)
    run = store.path(run_prefix(job.id))
    run.mkdir(parents=True, exist_ok=True)
    env = {"PYTHONPATH": ":".join(map(str, PYTHONPATH)), "PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin"}
    print(f"schedule: {engine.schedule.phases_text()} (batch {engine.schedule.batch_size}, lr {engine.schedule.lr}); "
          f"base network: {args.base_network}", flush=True)
    started = time.time()
    with open(run / "job.log", "wb") as log:
        process = subprocess.Popen(engine.command(job), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            process.wait(timeout=args.minutes * 60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)  # the trainer checkpoints and stops
            process.wait()
    found = previews(run, started)
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    print(f"{'minutes':>8} {'step':>6} {'style loss':>11} {'content loss':>12}")
    by_step = {m["step"]: m for m in metrics}
    for minutes, step, _ in found:
        m = by_step.get(step, {})
        print(f"{minutes:8.1f} {step:6d} {m.get('style', float('nan')):11.4g} {m.get('content', float('nan')):12.4g}")
    args.out.mkdir(parents=True, exist_ok=True)
    strip(found, args.painting, args.out / "previews.jpg")
    print(f"previews: {args.out / 'previews.jpg'}; run: {run}")


if __name__ == "__main__":
    main()
