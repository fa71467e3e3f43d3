"""Tiled inference: time and peak RSS for a 12-megapixel photo (target: within 3 GB), and how close tiles
come to the whole-image result on a photo small enough to run whole.

    .venv/bin/python benchmarks/inference_tiling.py [--checkpoint ...] [--variant fp32|int8]

Part 1 runs `stylize_bytes` on a 4000x3000 JPEG at full size (max_size=None) in a fresh process per
statistics method. Part 2 compares, on a 1920x1280 photo (2.46 MP), the whole-image result with tiles
using: pooled full-resolution statistics (what stylecore does), the whole image's, and each tile's own.
(A "downscaled" statistics mode measured 29.3 dB against pooled's 46.0 dB and was removed.)
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
from inference_common import default_checkpoint, machine, mosaic_photo, prepare_models, run_child

CHILD = """
import time
import stylecore
s = stylecore.Stylizer.from_file({path!r})
data = open({photo!r}, "rb").read()
t = time.perf_counter()
r = stylecore.stylize_bytes(data, s, max_size=None, output_format="jpeg")
RESULT = {{"seconds": time.perf_counter() - t, "size": f"{{r.width}}x{{r.height}}", "timings": r.timings}}
"""


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="default: runs/great_wave's latest, else random weights")
    parser.add_argument("--variant", default="fp32", choices=["fp32", "fp16", "int8"])
    parser.add_argument("--skip-large", action="store_true", help="only part 2")
    parser.add_argument("--skip-compare", action="store_true", help="only part 1")
    args = parser.parse_args()
    checkpoint = args.checkpoint or default_checkpoint()
    paths = prepare_models(checkpoint)
    model = paths[args.variant]
    print(f"machine: {machine()}")
    print(f"weights: {checkpoint or 'random (seed 0)'}, {args.variant}")
    from PIL import Image

    if not args.skip_large:
        with tempfile.TemporaryDirectory() as tmp:
            photo = Path(tmp) / "12mp.jpg"
            Image.fromarray(mosaic_photo(4000, 3000)).save(photo, quality=92)
            print("\n12 MP (4000x3000 JPEG in, JPEG out, full size), in a fresh process")
            print(f"{'seconds':>8} {'decode ms':>10} {'network ms':>11} {'encode ms':>10} {'peak RSS MB':>12}")
            r = run_child(CHILD.format(path=str(model), photo=str(photo)))
            t = r["timings"]
            print(f"{r['seconds']:>8.1f} {t['decode_ms']:>10.0f} {t['inference_ms']:>11.0f} "
                  f"{t['encode_ms']:>10.0f} {r['peak_rss_mb']:>12.0f}", flush=True)

    if args.skip_compare:
        return
    from stylecore import Stylizer

    stylizer = Stylizer.from_file(model)
    rgb = mosaic_photo(1920, 1280).astype(np.float32)
    whole = np.clip(stylizer.stylize_whole(rgb), 0, 255)
    print(f"\ntiles vs the whole image, 1920x1280, tiles of {stylizer.tile_size} + {stylizer.tile_margin} px margin "
          f"(PSNR dB, higher is closer)")
    pooled = np.clip(stylizer.stylize_tiled(rgb, norm_stats=stylizer.global_norm_stats(rgb)), 0, 255)
    print(f"  {'pooled statistics, crops <= 2.1 MP (default)':<46} {psnr(whole, pooled):6.2f}", flush=True)
    stylizer.stats_crop_pixels = rgb.shape[0] * rgb.shape[1]
    tiled = np.clip(stylizer.stylize_tiled(rgb, norm_stats=stylizer.global_norm_stats(rgb)), 0, 255)
    print(f"  {'the whole image statistics (seam check)':<46} {psnr(whole, tiled):6.2f}")
    naive = np.empty_like(rgb)
    size, margin = stylizer.tile_size, stylizer.tile_margin
    for top in range(0, 1280, size):
        for left in range(0, 1920, size):
            y0, x0 = max(0, top - margin), max(0, left - margin)
            window = stylizer.stylize_whole(rgb[y0:top + size + margin, x0:left + size + margin])
            kept = window[top - y0:top - y0 + size, left - x0:left - x0 + size]
            naive[top:top + kept.shape[0], left:left + kept.shape[1]] = kept
    print(f"  {'each tile its own statistics (naive)':<46} {psnr(whole, np.clip(naive, 0, 255)):6.2f}")


if __name__ == "__main__":
    main()
