"""Writes brush-fixture.json: stylecore/brush.py's results on small arrays, which src/image/brush.test.ts holds
the browser's port (src/image/brush.ts, src/image/resample.ts) to. Run from the repository root:

    .venv/bin/python frontend/src/test/make_brush_fixture.py
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image

from stylecore import brush

OUT = Path(__file__).with_name("brush-fixture.json")


def photo(rng, width, height):
    """A photo-like uint8 RGB image: smooth gradients, an edge and some noise (not pure noise)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x * 200 / width, y * 180 / height, (x + y) * 90 / (width + height)], axis=-1) + 30
    base[:, width // 2:] += 60  # an edge for the detail transfer to restore
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def flat(array):
    return [round(float(v), 5) for v in np.asarray(array, np.float64).ravel()]


def main():
    rng = np.random.default_rng(7)
    cases = {}
    for name, (w, h), size in [("lanczos", (37, 23), (23, 14)), ("lanczos_reduced", (61, 47), (9, 7))]:
        rgb = photo(rng, w, h)
        cases[name] = {"photo": rgb.ravel().tolist(), "width": w, "height": h, "size": size,
                       "out": brush.resize_rgb(rgb, size).ravel().tolist()}
    plane = rng.uniform(-20, 280, (5, 7)).astype(np.float32)
    for name, resample in [("bicubic", Image.Resampling.BICUBIC), ("bilinear", Image.Resampling.BILINEAR)]:
        cases[name] = {"plane": flat(plane), "width": 7, "height": 5, "size": (17, 12),
                       "out": flat(brush.resize_plane(plane, (17, 12), resample))}
    big = photo(rng, 29, 21)
    small = brush.resize_rgb(big, brush.painting_size(29, 21, 1024 / 12))
    painting = np.clip(small.astype(np.float32) * 0.7 + rng.normal(40, 25, small.shape), -20, 280).astype(np.float32)
    guide = small.astype(np.float32) @ np.asarray(brush.LUMA, np.float32)
    cases["upsample"] = {
        "photo": big.ravel().tolist(), "width": 29, "height": 21,
        "small": small.ravel().tolist(), "smallWidth": small.shape[1], "smallHeight": small.shape[0],
        "painting": flat(painting.transpose(2, 0, 1)),
        "boxMean": flat(brush.box_mean(guide, brush.GUIDE_RADIUS)),
        "gain": flat(brush.guided_gain(guide, painting).transpose(2, 0, 1)),
        "out": flat(brush.upsample_painting(painting, small, big).transpose(2, 0, 1)),
    }
    cases["paintingSize"] = [[w, h, b, *brush.painting_size(w, h, b)]
                             for w, h, b in [(1500, 1000, 1), (1000, 1500, 2), (800, 600, 1), (1673, 1255, 0.75),
                                             (2048, 1024, 4), (2048, 1536, 0.125), (1000, 999, 2.5)]]
    OUT.write_text(json.dumps(cases, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
