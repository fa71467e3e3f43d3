"""Files for the e2e tests, written into OUT_DIR (never committed):

- `sideways.jpg`: a 1500x1000 photo stored rotated (1000x1500 pixels) with EXIF orientation 6, as
  phones save portrait/landscape shots: the app must show it upright and send 1024x683.
- `notes.txt`: not an image.
- `fake.jpg`: text named like a JPEG, which only decoding can tell apart.

With `--videos` (PyAV; the video mode's tests only, as the clips take a few seconds to encode):

- `clip.mp4`: 2 s at 12 fps, 160x96, H.264 with AAC sound: stylized in seconds on a 2-core CPU.
- `long.webm`: 61 s at 1 fps, 32x32, no sound: a second over the limit, which the browser refuses by its length.

Run with the project's .venv (Pillow): `.venv/bin/python frontend/e2e/make_fixtures.py OUT_DIR [--videos]`.
"""

import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
ORIENTATION = 0x0112
ROTATE_90_CW = 6  # "the stored image must be turned 90 degrees clockwise to be shown upright"


def sideways_photo(path: Path):
    upright = Image.open(REPO / "sample_gallery" / "coffee.jpg").convert("RGB").resize((1500, 1000), Image.LANCZOS)
    stored = upright.rotate(90, expand=True)  # counter-clockwise, undone by the EXIF tag
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATE_90_CW
    stored.save(path, "JPEG", quality=90, exif=exif)


def video_clips(out: Path):
    sys.path.insert(0, str(REPO))
    from tests.synthetic import panning_clip

    panning_clip(out / "clip.mp4", seconds=2, fps=12, size=(160, 96), audio=True)
    panning_clip(out / "long.webm", seconds=61, fps=1, size=(32, 32), audio=False, pan_px=0)


def main(out_dir: str, *flags: str):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "--videos" in flags:
        video_clips(out)
    sideways_photo(out / "sideways.jpg")
    (out / "notes.txt").write_text("Shopping list: eggs, flour, a painting by Hokusai.\n")
    (out / "fake.jpg").write_text("this is not really a JPEG\n")
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
