"""A side-by-side clip for a person to look at: the same camera pan stylized by two networks, frame by frame.

    .venv/bin/python benchmarks/motion_clip.py OLD.onnx NEW.onnx [--style great_wave] [--photo PATH]
        [--pan 1,2,3] [--frames 16] [--out artifacts/motion/pan.webp]

A window pans across a val photo by a whole number of pixels per frame (each --pan speed in turn, --frames
frames each), every frame with its own sensor noise, as the quality kit's stability.py simulates a camera.
Each frame is stylized on its own, as the live camera and a frame-by-frame video job do, with the inference
core as it serves. The clip shows, left to right: the camera's frame, OLD's painting, NEW's painting, and is
written as an animated WebP that any browser plays. It also prints each network's warping error against the
camera's own (the kit's instability ratio), for the clip that was made.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

sys.path.insert(0, str(ROOT.parent / "shared" / "quality-kit"))

import stability as kit  # noqa: E402  (the quality kit's motion metric: its camera and warping error)
from stylecore import Stylizer  # noqa: E402

VAL = ROOT.parent / "shared" / "assets" / "photos" / "val"
NOISE = 2.0  # the kit's default sensor noise, standard deviation on 0..255
BORDER = 16  # the kit's margin, left out of the warping error


def camera(photo: np.ndarray, size: tuple, speeds: list, count: int) -> list:
    """One clip per speed: the kit's own simulated camera (a pan right, each frame with its own noise)."""
    return [kit.frames(photo, size, speed, count, 1, NOISE, np.random.default_rng(speed)) for speed in speeds]


def instability(clips: list, painted: list, speeds: list) -> float:
    """The kit's figure for this clip: the paintings' warping error over the camera frames', mean over speeds."""
    return float(np.mean([kit.warping_error(out, speed, 1, BORDER) / kit.warping_error(seq, speed, 1, BORDER)
                          for seq, out, speed in zip(clips, painted, speeds, strict=True)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--style", default="great_wave")
    parser.add_argument("--photo", default=str(VAL / "bsds_100007.jpg"))
    parser.add_argument("--size", default="240x320", help="frame size HxW")
    parser.add_argument("--pan", default="1,2,3", help="pixels per frame, one stretch each")
    parser.add_argument("--frames", type=int, default=16, help="frames per speed")
    parser.add_argument("--fps", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "motion" / "pan.webp"))
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))
    speeds = [int(v) for v in args.pan.split(",")]
    photo = Image.open(args.photo).convert("RGB")
    need_w = w + max(speeds) * (args.frames - 1)
    scale = max(need_w / photo.width, h / photo.height)
    photo = np.asarray(photo.resize((max(need_w, round(photo.width * scale)), max(h, round(photo.height * scale))),
                                    Image.Resampling.LANCZOS))
    clips = camera(photo, (h, w), speeds, args.frames)
    columns = [[f for clip in clips for f in clip]]
    for model in (args.old, args.new):
        stylizer = Stylizer.from_file(model).for_style(args.style)
        painted = [[np.clip(np.rint(stylizer.stylize(f.astype(np.float32))), 0, 255).astype(np.uint8) for f in clip]
                   for clip in clips]
        print(f"{model}: instability {instability(clips, painted, speeds):.2f} on this clip ({args.style})")
        columns.append([f for clip in painted for f in clip])
    strip = [Image.fromarray(np.concatenate(row, axis=1)) for row in zip(*columns, strict=True)]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    strip[0].save(out, save_all=True, append_images=strip[1:], duration=1000 // args.fps, loop=0, quality=85)
    print(f"{out}: {len(strip)} frames, left to right: the camera, {args.old}, {args.new}")


if __name__ == "__main__":
    main()
