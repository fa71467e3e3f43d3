"""The bundled models' quality, shown: a contact sheet and measured losses (docs/model-quality.md).

    .venv/bin/python scripts/model_quality.py [--models models] [--photos ../shared/assets/photos/val]
        [--vgg-weights weights/vgg16-caffe.pth] [--gatys-photos 3] [--gatys-size 128] [--styles id ...]

For every ONNX model in --models (served exactly as the product serves it, through stylecore):
1. Losses on every val photo at its own size, with our VGG16 (the training losses, unweighted): content,
   style, and the style loss divided by the unchanged photo's (a scale-free "how far towards the painting").
2. Whole-frame check (the original report's bad case, "only the centre is stylized"): how much the
   edges change against the centre, on wide and tall photos, at their size and at 3x (larger than
   anything seen in training).
3. The Gatys reference on square centre crops of a few photos (L-BFGS from white noise on the same
   weighted loss, 100 and 300 iterations), against the model on the same crops.
Sheets go to artifacts/quality/ (ignored by git).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from stylecore import Stylizer  # noqa: E402

from training.data import find_images, load_rgb, load_style_image, to_tensor  # noqa: E402
from training.evaluate import score  # noqa: E402
from training.gatys import gatys  # noqa: E402
from training.losses import PerceptualLoss  # noqa: E402
from training.vgg import file_sha256, load_loss_network  # noqa: E402

SHARED = ROOT.parent / "shared" / "assets"


def stylize(stylizer: Stylizer, rgb: np.ndarray) -> np.ndarray:
    return np.clip(stylizer.stylize_whole(rgb), 0, 255).round().astype(np.uint8)


def edge_centre_ratio(photo: np.ndarray, styled: np.ndarray) -> float:
    """Mean absolute change in the outer sixth of the frame divided by that in the central third."""
    change = np.abs(styled.astype(np.float32) - photo.astype(np.float32)).mean(axis=2)
    h, w = change.shape
    mask = np.zeros_like(change, bool)
    by, bx = max(1, h // 6), max(1, w // 6)
    mask[:by], mask[-by:], mask[:, :bx], mask[:, -bx:] = True, True, True, True
    centre = change[h // 3:2 * h // 3, w // 3:2 * w // 3]
    return float(change[mask].mean() / max(centre.mean(), 1e-6))


def centre_crop(image: Image.Image, size: int) -> Image.Image:
    w, h = image.size
    scale = size / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BICUBIC)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    return image.crop((left, top, left + size, top + size))


def sheet(rows: list, path: Path, height: int = 160):
    """rows: lists of HxWx3 uint8 images; each row scaled to `height`, rows stacked."""
    scaled = [[Image.fromarray(im).resize((max(1, round(im.shape[1] * height / im.shape[0])), height))
               for im in row] for row in rows]
    width = max(sum(im.width for im in row) for row in scaled)
    canvas = Image.new("RGB", (width, height * len(scaled)), "white")
    for r, row in enumerate(scaled):
        x = 0
        for im in row:
            canvas.paste(im, (x, r * height))
            x += im.width
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, quality=88)


def measure(model: Path, photos: list, frame_set: list, gatys_set: list, loss_network, args) -> dict:
    """Every number for one model (see the module docstring); side-by-side sheets as a side effect."""
    card = json.loads(model.with_suffix(".json").read_text())
    training = card.get("training", {})
    hyper = training.get("hyperparameters", {})
    style_file = Path(args.styles_dir) / training.get("style_image", {}).get("file", f"{model.stem}.jpg")
    criterion = PerceptualLoss(loss_network, load_style_image(style_file, hyper.get("style_size", 512)),
                               training.get("loss_network", {}).get("content_layer", "relu2_2"),
                               hyper.get("content_weight", 1.0), hyper.get("style_weight", 5.0),
                               hyper.get("tv_weight", 0.2))
    stylizer = Stylizer.from_file(model)
    artifacts = Path(args.artifacts)
    started = time.perf_counter()
    rows = []
    for name, rgb in photos:
        content_t, styled_t = to_tensor(Image.fromarray(rgb)), to_tensor(Image.fromarray(stylize(stylizer, rgb)))
        losses = score(criterion, content_t, styled_t)
        losses["style_photo"] = score(criterion, content_t, content_t)["style"]
        rows.append({"photo": name, **losses})
    frame = []
    for name, rgb in frame_set:
        big = np.asarray(Image.fromarray(rgb).resize((rgb.shape[1] * 3, rgb.shape[0] * 3), Image.BICUBIC))
        frame.append({"photo": name, "shape": "wide" if rgb.shape[1] > rgb.shape[0] else "tall",
                      "native": edge_centre_ratio(rgb, stylize(stylizer, rgb)),
                      "x3": edge_centre_ratio(big, stylize(stylizer, big))})
    sheet([[rgb, stylize(stylizer, rgb)] for _, rgb in frame_set], artifacts / f"{model.stem}_frames.jpg", 240)

    gatys_rows = []
    for name, crop in gatys_set:
        photo_t = to_tensor(Image.fromarray(crop))
        model_losses = score(criterion, photo_t, to_tensor(Image.fromarray(stylize(stylizer, crop))))
        with torch.enable_grad():
            snapshots = gatys(criterion, photo_t, iterations=tuple(args.gatys_iterations))
        row = {"photo": name, "model": model_losses}
        for it, image in snapshots.items():
            row[f"gatys_{it}"] = score(criterion, photo_t, image)
        gatys_rows.append(row)
        sheet([[crop, stylize(stylizer, crop)]
               + [image.permute(1, 2, 0).round().byte().numpy() for image in snapshots.values()]],
              artifacts / f"{model.stem}_gatys_{Path(name).stem}.jpg", 256)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("content", "style", "tv", "style_photo")}
    result = {"id": model.stem, "name": card.get("name"), "card": card, "val": mean,
              "style_ratio": float(np.mean([r["style"] / r["style_photo"] for r in rows])),
              "frame": frame, "gatys": gatys_rows, "seconds": time.perf_counter() - started}
    print(f"{model.stem}: content {mean['content']:.4g} style {mean['style']:.4g} "
          f"ratio {result['style_ratio']:.3f} ({result['seconds']:.0f} s)", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--photos", default=str(SHARED / "photos" / "val"))
    parser.add_argument("--styles-dir", default=str(SHARED / "styles"))
    parser.add_argument("--vgg-weights", default=str(ROOT / "weights" / "vgg16-caffe.pth"))
    parser.add_argument("--styles", nargs="*", help="measure only these style ids (the report covers every model "
                        "measured so far with the same settings)")
    parser.add_argument("--gatys-photos", type=int, default=3)
    parser.add_argument("--gatys-iterations", type=int, nargs="+", default=[100, 300])
    # 300 L-BFGS iterations on a 256x256 crop cost about 8 CPU-minutes here (2 AVX2 cores), so 6 styles x 3
    # photos would take 2.5 hours; 128x128 takes a quarter of that. Both sides of the comparison use the same crops.
    parser.add_argument("--gatys-size", type=int, default=128, help="side of the square centre crops (default: 128)")
    parser.add_argument("--recompute", action="store_true", help="ignore measurements saved in --artifacts")
    parser.add_argument("--out", default=str(ROOT / "docs" / "model-quality.md"))
    parser.add_argument("--artifacts", default=str(ROOT / "artifacts" / "quality"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_grad_enabled(False)

    models = sorted(p for p in Path(args.models).glob("*.onnx") if p.name.count(".") == 1)
    photos = [(p.name, np.asarray(load_rgb(p))) for p in find_images(args.photos)]
    wide = [(n, im) for n, im in photos if im.shape[1] > im.shape[0]]
    tall = [(n, im) for n, im in photos if im.shape[0] > im.shape[1]]
    frame_set = wide[:3] + tall[:3]
    gatys_set = [(n, np.asarray(centre_crop(Image.fromarray(im), args.gatys_size)))
                 for n, im in photos[:args.gatys_photos]]
    loss_network = load_loss_network(args.vgg_weights)
    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    results, contact_rows = [], [[im for _, im in photos[:8]]]

    for model in models:
        # A measurement is reused while the model file and every setting that shaped it are unchanged.
        key = {"model_sha256": file_sha256(model), "photos": [n for n, _ in photos],
               "vgg_weights": str(args.vgg_weights), "gatys_size": args.gatys_size,
               "gatys_iterations": args.gatys_iterations, "gatys_photos": args.gatys_photos}
        saved_path = artifacts / f"{model.stem}.json"
        saved = json.loads(saved_path.read_text()) if saved_path.exists() else None
        if saved and saved.get("key") == key and not args.recompute:
            results.append(saved)
        elif args.styles is None or model.stem in args.styles:
            results.append({**measure(model, photos, frame_set, gatys_set, loss_network, args), "key": key})
            saved_path.write_text(json.dumps(results[-1], indent=2, default=str))
        else:
            print(f"{model.stem}: not measured with these settings yet (leave out --styles to measure it)")
            continue
        stylizer = Stylizer.from_file(model)
        contact_rows.append([stylize(stylizer, rgb) for _, rgb in photos[:8]])

    sheet(contact_rows, artifacts / "contact_sheet.jpg", 128)
    Path(args.out).write_text(report(results, args, len(photos)))
    print(f"wrote {args.out} and {artifacts}/")


def gatys_means(result: dict, iterations: int) -> tuple[dict, dict]:
    """The model's and Gatys-`iterations`' content and style losses, averaged over the crops."""
    def mean(key):
        return {k: float(np.mean([row[key][k] for row in result["gatys"]])) for k in ("content", "style")}
    return mean("model"), mean(f"gatys_{iterations}")


def summary(results: list, last: int) -> list:
    """The headline: how many models meet the targets, and how much training they had."""
    means = {r["id"]: gatys_means(r, last) for r in results}
    met_style = [i for i, (model, ref) in means.items() if model["style"] <= ref["style"]]
    met_content = [i for i, (model, ref) in means.items() if model["content"] <= 1.5 * ref["content"]]
    seen = [r["card"].get("training", {}).get("images_seen", 0) for r in results]
    # Edges changing at least half as much as the centre, on every wide and tall photo at both sizes.
    centre_only = [r["id"] for r in results if min(min(f["native"], f["x3"]) for f in r["frame"]) < 0.5]
    frame_verdict = (f"Edges change less than half as much as the centre for: {', '.join(centre_only)}."
                     if centre_only else "Every model stylizes the whole frame (last table).")
    return [f"**Summary.** {len(met_style)} of {len(results)} models reach Gatys-{last}'s style loss "
            f"({', '.join(met_style) or 'none'}), {len(met_content)} of {len(results)} stay within 1.5x its content "
            f"loss ({', '.join(met_content) or 'none'}). They were trained on a 2-core CPU and saw "
            f"{min(seen, default=0):,} to {max(seen, default=0):,} photos each; Johnson et al. trained 40,000 steps "
            "of 4 (160,000 photos) for their Figure 5 result. " + frame_verdict, ""]


def report(results: list, args, n_photos: int) -> str:
    its = args.gatys_iterations
    lines = [
        "# Model quality",
        "",
        f"Made by `scripts/model_quality.py` on {time.strftime('%Y-%m-%d')}. Losses are our VGG16 loss network's",
        "(converted Oxford VGG16, caffe preprocessing), unweighted, as in training: content at the model's content",
        "layer, style summed over relu1_2, relu2_2, relu3_3, relu4_3 against the painting at the model's style size.",
        "The contact sheet and side-by-sides are in `artifacts/quality/` (not committed).",
        "",
        *summary(results, its[-1]),
        f"## On the {n_photos} val photos (BSDS500 test, 481x321 and 321x481, at their own size)",
        "",
        "Style ratio: the stylized photo's style loss divided by the unchanged photo's (lower is closer to the "
        "painting; 1 is no stylization).",
        "",
        "| style | training (steps x batch, photos seen) | content loss | style loss | style ratio | TV |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        t = r["card"].get("training", {})
        batch = t.get("hyperparameters", {}).get("batch_size", "?")
        lines.append(f"| {r['id']} | {t.get('steps', '?')} x {batch}, {t.get('images_seen', '?')} "
                     f"| {r['val']['content']:.4g} | {r['val']['style']:.4g} | {r['style_ratio']:.3f} "
                     f"| {r['val']['tv']:.4g} |")
    lines += ["", "## Against Gatys et al. (L-BFGS from white noise, unit steps as in their code, same loss)", "",
              f"{args.gatys_size}x{args.gatys_size} centre crops of {args.gatys_photos} val photos; means over the "
              "crops (300 L-BFGS iterations on a 256x256 crop take about 8 CPU-minutes here; `--gatys-size 256` "
              "on a faster machine). Target: the model's "
              f"style loss at most Gatys-{its[-1]}'s, at a content loss at most 1.5x Gatys-{its[-1]}'s.", "",
              "| style | model content | model style | " + " | ".join(
                  f"Gatys-{i} content | Gatys-{i} style" for i in its) + f" | style / G{its[-1]} | content / G{its[-1]}"
              + f" | style <= G{its[-1]} | content <= 1.5x G{its[-1]} |",
              "|---|---:|---:|" + "---:|---:|" * len(its) + "---:|---:|---|---|"]
    for r in results:
        m = gatys_means(r, its[-1])[0]
        g = {i: gatys_means(r, i)[1] for i in its}
        last = g[its[-1]]
        cells = " | ".join(f"{g[i]['content']:.4g} | {g[i]['style']:.4g}" for i in its)
        lines.append(f"| {r['id']} | {m['content']:.4g} | {m['style']:.4g} | {cells} | "
                     f"{m['style'] / last['style']:.2f} | {m['content'] / last['content']:.2f} | "
                     f"{'yes' if m['style'] <= last['style'] else 'no'} | "
                     f"{'yes' if m['content'] <= 1.5 * last['content'] else 'no'} |")
    lines += ["", "## The whole frame is stylized (the original report's bad case)", "",
              "Mean absolute change of the outer sixth of the frame divided by that of the central third "
              "(1.0: the edges change as much as the centre; the original report's failure would be far below 1), "
              "on 3 wide and 3 tall val photos, at their size and enlarged 3x.", "",
              "| style | wide, native | tall, native | wide, 3x | tall, 3x | lowest |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        def avg(shape, key, frame=r["frame"]):
            return float(np.mean([f[key] for f in frame if f["shape"] == shape]))
        lowest = min(min(f["native"], f["x3"]) for f in r["frame"])
        lines.append(f"| {r['id']} | {avg('wide', 'native'):.2f} | {avg('tall', 'native'):.2f} | "
                     f"{avg('wide', 'x3'):.2f} | {avg('tall', 'x3'):.2f} | {lowest:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
