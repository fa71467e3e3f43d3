"""Files for the e2e tests, written into OUT_DIR (never committed):

- `sideways.jpg`: a 1500x1000 photo stored rotated (1000x1500 pixels) with EXIF orientation 6, as
  phones save portrait/landscape shots: the app must show it upright and send 1024x683.
- `notes.txt`: not an image.
- `fake.jpg`: text named like a JPEG, which only decoding can tell apart.

Run with the project's .venv (Pillow): `.venv/bin/python frontend/e2e/make_fixtures.py OUT_DIR`.
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


def main(out_dir: str):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sideways_photo(out / "sideways.jpg")
    (out / "notes.txt").write_text("Shopping list: eggs, flour, a painting by Hokusai.\n")
    (out / "fake.jpg").write_text("this is not really a JPEG\n")
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
