"""Video jobs, measured: frames per second at 480p and 720p, the wall time of a clip through the whole job path
(probe, chunks, join with the sound), the flow-measured stability of the result, and what a minute of 720p
would cost on AWS at the template's defaults.

    .venv/bin/python benchmarks/video_throughput.py [--models models] [--variant halfres] [--style great_wave]
        [--seconds 10] [--threads 2] [--candidate OTHER.onnx]

The clip: a val photo filmed by the quality kit's simulated camera (a pan of 2 px a frame, every frame with
its own sensor noise), 30 fps, with a tone as its sound, encoded as a phone would (H.264 + AAC). Each size
runs twice in the same process: a copy (decode and encode only: the baseline), then the style; the difference
is the network's share.

Stability: Lai et al.'s warping error with optical flow (OpenCV's DIS, no downloaded weights) from each input
frame to the one before, applied to the stylized frames (the input's own is printed too, but it is near 0 by
construction: the flow is fitted to it). --candidate stylizes the same clips with another network file (the
network in training for stability under motion) for a side-by-side figure.
"""

import argparse
import fractions
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda_video"), str(ROOT.parent / "shared" / "quality-kit")]

import stability as kit  # noqa: E402  (the quality kit's camera)
import stylecore  # noqa: E402
from videojobs import limits, media, work  # noqa: E402

VAL = ROOT.parent / "shared" / "assets" / "photos" / "val"
SIZES = {"480p": (854, 480), "720p": (1280, 720)}
FPS, PAN_PX, NOISE, BORDER = 30, 2, 2.0, 16
# AWS Lambda (x86, us-east-1) and Step Functions prices, December 2026: per GB-second, per request, per
# state transition (Standard workflows; a Distributed Map's child executions are Standard here).
LAMBDA_GB_S, LAMBDA_REQUEST, SFN_TRANSITION = 0.0000166667, 0.0000002, 0.000025
CHUNK_MEMORY_GB, CHUNK_VCPUS = 3008 / 1024, 3008 / 1769  # Lambda gives one vCPU per 1,769 MB


def make_clip(path: Path, size: tuple, seconds: float) -> None:
    width, height = size
    count = int(seconds * FPS)
    photo = np.asarray(Image.open(sorted(VAL.glob("*.jpg"))[3]).convert("RGB"))
    scale = max((width + PAN_PX * count + 1) / photo.shape[1], height / photo.shape[0])
    photo = np.asarray(Image.fromarray(photo).resize((int(photo.shape[1] * scale) + 1,
                                                      int(photo.shape[0] * scale) + 1), Image.LANCZOS))
    frames = kit.frames(photo, (height, width), PAN_PX, count, 1, NOISE, np.random.default_rng(0))
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "20", "preset": "veryfast"}
        sound = container.add_stream("aac", rate=48000, layout="stereo")
        for n, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, "rgb24")
            frame.pts = n
            container.mux(video.encode(frame))
        container.mux(video.encode())
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(int(48000 * seconds)) / 48000)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            part = np.ascontiguousarray(np.stack([tone[start:start + 1024]] * 2))
            frame = av.AudioFrame.from_ndarray(part, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = 48000, start, fractions.Fraction(1, 48000)
            container.mux(sound.encode(frame))
        container.mux(sound.encode())


def run_job(source: Path, paint, folder: Path) -> dict:
    """The job path of the local worker, timed: probe and plan, every chunk, the join."""
    started = time.perf_counter()
    plan = media.plan_of(media.probe(source, source.stat().st_size))
    chunk_paths, stylize_s = [], 0.0
    for chunk in media.chunks_of(plan.frames):
        chunk_paths.append(folder / f"chunk-{chunk['index']}.mp4")
        at = time.perf_counter()
        media.stylize_range(source, plan, chunk["start"], chunk["end"], paint, chunk_paths[-1])
        stylize_s += time.perf_counter() - at
    at = time.perf_counter()
    facts = media.join(chunk_paths, source, plan, folder / "result.mp4")
    join_s = time.perf_counter() - at
    return {"frames": facts["frames"], "wall_s": time.perf_counter() - started, "chunks_s": stylize_s,
            "join_s": join_s, "per_frame_ms": 1000 * stylize_s / facts["frames"], "result": folder / "result.mp4"}


def gray_frames(path: Path) -> list:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def flow_warping_error(source: Path, result: Path) -> tuple:
    """(warping error of the result, of the input), with DIS flow from each input frame to the one before."""
    import cv2

    inputs, outputs = gray_frames(source), gray_frames(result)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    errors = {"result": [], "input": []}
    for t in range(1, min(len(inputs), len(outputs))):
        prev_gray, cur_gray = (cv2.cvtColor(inputs[i], cv2.COLOR_RGB2GRAY) for i in (t - 1, t))
        flow = dis.calc(cur_gray, prev_gray, None)  # where each pixel of frame t was in frame t-1
        h, w = flow.shape[:2]
        grid = np.mgrid[0:h, 0:w].astype(np.float32)
        map_x, map_y = grid[1] + flow[..., 0], grid[0] + flow[..., 1]
        for name, seq in (("result", outputs), ("input", inputs)):
            warped = cv2.remap(seq[t - 1], map_x, map_y, cv2.INTER_LINEAR)
            diff = (seq[t].astype(np.float32) - warped.astype(np.float32)) / 255.0
            errors[name].append(float(np.mean(diff[BORDER:-BORDER, BORDER:-BORDER] ** 2)))
    return float(np.mean(errors["result"])), float(np.mean(errors["input"]))


def aws_estimate(per_frame_s: float, seconds: float = 60.0, concurrency: int = 20) -> dict:
    """A minute of 720p at 30 fps on the template's defaults (chunks of CHUNK_FRAMES, MaxConcurrency 20), from
    the per-frame time measured here with 2 threads, scaled to the chunk function's vCPUs (assumed as fast as
    this machine's cores: an assumption, said in the docs)."""
    frames = int(seconds * FPS)
    chunks = -(-frames // limits.CHUNK_FRAMES)
    chunk_s = limits.CHUNK_FRAMES * per_frame_s * 2 / CHUNK_VCPUS + 3.0  # + the clip's download
    waves = -(-chunks // concurrency)
    wall_s = 5.0 + waves * chunk_s + 15.0  # plan, the chunks in waves, the join (measured locally: a few s)
    lambda_cost = chunks * chunk_s * CHUNK_MEMORY_GB * LAMBDA_GB_S + 20.0 * 2.0 * LAMBDA_GB_S \
        + (chunks + 3) * LAMBDA_REQUEST
    transitions = 8 + chunks * 3
    return {"frames": frames, "chunks": chunks, "chunk_s": chunk_s, "wall_s": wall_s,
            "cost_usd": lambda_cost + transitions * SFN_TRANSITION}


def painter_with_threads(registry, style: str, threads: int):
    """The job's painter (work.painter), its network's session made with `threads` threads."""
    import os

    os.environ["STYLECORE_THREADS"] = str(threads)
    return work.painter(registry, {"style": style})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--style", default="great_wave")
    parser.add_argument("--seconds", type=float, default=10.0, help="the clip's length (default 10)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variant", default="halfres", help="the served variant (the template's MODELS_VARIANT)")
    parser.add_argument("--candidate", type=Path, help="another network file, stylized on the same clips")
    args = parser.parse_args(argv)
    registry = stylecore.StyleRegistry.from_dir(args.models)
    registry.preferred_variant = args.variant
    paint = painter_with_threads(registry, args.style, args.threads)
    candidate = None
    if args.candidate:
        other = stylecore.Stylizer.from_file(args.candidate, threads=args.threads)
        candidate = other.for_style(args.style) if other.style_ids else other
    print(f"video jobs, {args.seconds:g} s clips at {FPS} fps, style {args.style}, {args.threads} threads "
          f"({registry.served_variant(registry.network_of(args.style)) or 'main'} network file)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, size in SIZES.items():
            source = folder / f"{name}.mp4"
            make_clip(source, size, args.seconds)
            copy = run_job(source, lambda rgb: rgb, folder)
            styled = run_job(source, paint, folder)
            ours, theirs = flow_warping_error(source, styled["result"])
            print(f"{name} {size[0]}x{size[1]}: copy {copy['frames'] / copy['chunks_s']:.1f} fps; styled "
                  f"{styled['frames'] / styled['chunks_s']:.2f} fps ({styled['per_frame_ms']:.0f} ms a frame); "
                  f"whole job {styled['wall_s']:.1f} s for {styled['frames']} frames (join {styled['join_s']:.1f}"
                  f" s); flow warping error x1000: {1000 * ours:.3f} (the clip's own {1000 * theirs:.3f})")
            if candidate is not None:
                other = run_job(source, lambda rgb: stylecore.stylize_pixels(stylecore.DecodedImage(rgb), candidate),
                                folder)
                print(f"  candidate {args.candidate.name}: {other['frames'] / other['chunks_s']:.2f} fps; flow "
                      f"warping error x1000: {1000 * flow_warping_error(source, other['result'])[0]:.3f}")
            if name == "720p":
                estimate = aws_estimate(styled["per_frame_ms"] / 1000)
                print(f"AWS, a 60 s 720p clip: {estimate['chunks']} chunks of {limits.CHUNK_FRAMES} frames, about "
                      f"{estimate['chunk_s']:.0f} s each at 3,008 MB; wall about {estimate['wall_s']:.0f} s at "
                      f"MaxConcurrency 20; about ${estimate['cost_usd']:.3f} a minute of video")
    return 0


if __name__ == "__main__":
    sys.exit(main())
