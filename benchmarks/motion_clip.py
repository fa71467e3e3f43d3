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

from stylecore import Stylizer  # noqa: E402

VAL = ROOT.parent / "shared" / "assets" / "photos" / "val"
NOISE = 2.0  # the kit's default sensor noise, standard deviation on 0..255
BORDER = 16  # the kit's margin, left out of the warping error


def camera(photo: np.ndarray, size: tuple, speeds: list, frames: int, rng) -> list:
    """(frame, shift from the previous frame) for a pan right at each speed in turn; the first of each speed
    has no predecessor at that speed (shift None)."""
    h, w = size
    out = []
    for speed in speeds:
        for t in range(frames):
            crop = photo[:h, t * speed:t * speed + w].astype(np.float32)
            noisy = np.clip(np.rint(crop + rng.normal(0.0, NOISE, crop.shape)), 0, 255).astype(np.uint8)
            out.append((noisy, speed if t else None))
    return out


def instability(frames: list, painted: list) -> float:
    """The kit's figure for this clip: warping error of the paintings over that of the camera's frames."""
    def warping_error(images):
        errors = []
        for (prev, cur), (_, shift) in zip(zip(images, images[1:], strict=False), frames[1:], strict=True):
            if shift is None:
                continue
            a = cur[:, :cur.shape[1] - shift].astype(np.float32) / 255
            b = prev[:, shift:].astype(np.float32) / 255
            errors.append(float(np.mean(((a - b)[BORDER:-BORDER, BORDER:-BORDER]) ** 2)))
        return float(np.mean(errors))
    return warping_error(painted) / warping_error([f for f, _ in frames])


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
    frames = camera(photo, (h, w), speeds, args.frames, np.random.default_rng(0))
    columns = [[f for f, _ in frames]]
    for model in (args.old, args.new):
        stylizer = Stylizer.from_file(model).for_style(args.style)
        painted = [np.clip(np.rint(stylizer.stylize(f.astype(np.float32))), 0, 255).astype(np.uint8)
                   for f, _ in frames]
        print(f"{model}: instability {instability(frames, painted):.2f} on this clip ({args.style})")
        columns.append(painted)
    strip = [Image.fromarray(np.concatenate(row, axis=1)) for row in zip(*columns, strict=True)]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    strip[0].save(out, save_all=True, append_images=strip[1:], duration=1000 // args.fps, loop=0, quality=85)
    print(f"{out}: {len(strip)} frames, left to right: the camera, {args.old}, {args.new}")


if __name__ == "__main__":
    main()
