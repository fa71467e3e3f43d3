"""Checkpoint -> checked ONNX file + model card (+ the fp16 / int8 / halfres / steady variants asked for)."""

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from stylecore import Stylizer
from stylecore.modelfiles import (
    PIXEL_MAX,
    PIXEL_MIN,
    STEADY_VARIANT,
    STYLE_ID_RULE,
    USER_STYLE_PREFIX,
    card_filename,
    is_style_id,
    model_filename,
    without_paths,
    write_card,
)

from training.evaluate import load_photos

from . import card as cards
from .card import ExportError
from .join import join
from .onnx_file import exporter_version, read_metadata, save, set_metadata, to_onnx
from .parity import DEFAULT_SIZES, check_parity, psnr
from .variants import INT8_DEFAULTS, to_fp16_weights, to_int8

log = logging.getLogger(__name__)


@dataclass
class ExportRequest:
    checkpoint: str
    out: str
    style_id: str | None = None
    name: str | None = None
    artist: str | None = None
    year: str | None = None
    style_image: str | None = None
    style_license: str = "unknown"
    dataset_license: str | None = None
    fp16: bool = False
    halfres: bool = False  # the same network with its full-resolution layers at half resolution (faster)
    int8: bool = False
    calibration_photos: str | None = None
    eval_photos: str | None = None  # variants' quality: PSNR vs fp32 and the perceptual losses on these
    eval_size: int = 256  # short side of the evaluation photos
    vgg_weights: str | None = None  # for the perceptual losses; default: the checkpoint's own
    parity_sizes: tuple = DEFAULT_SIZES
    int8_options: dict = field(default_factory=dict)
    # The checkpoint of a second network with the same styles, trained to hold still under motion (the antialiased
    # network): saved in its halfres layout as STYLE_ID.steady.onnx, for the live camera and video.
    steady: str | None = None
    # A multi-style network: a catalog ({"styles": [{"id", "name", "artist", "year"}, ...]}) names its styles;
    # the paintings are the ones it was trained on.
    catalog: str | None = None
    # A new style fine-tuned from a multi-style network (its fp32 ONNX file or checkpoint): the file holds that
    # network's styles too, so that the new style blends with them (export/join.py).
    join: str | None = None
    # The server's paths (dataset, paintings, base network, loss network) cut to their last part in the file's
    # metadata and its card (stylecore.modelfiles.without_paths). None: for a user's style (its id user-...),
    # whose owner downloads the file; the project's own styles keep them, as their record.
    without_paths: bool | None = None


def validate(req: ExportRequest, config: dict) -> tuple:
    """Everything that can be checked before the slow work; returns (style_id, style_image)."""
    out = Path(req.out)
    if out.suffix != ".onnx":
        raise ExportError(f"--out must be a .onnx file, like models/{out.stem or 'my_style'}.onnx")
    if not out.parent.is_dir():
        raise ExportError(f"the output folder does not exist: {out.parent}")
    style_id = req.style_id or out.stem
    if not is_style_id(style_id):
        raise ExportError(f"style id {style_id!r}: use {STYLE_ID_RULE} (it names the file and goes into URLs)")
    if out.name != model_filename(style_id):
        raise ExportError(f"the registry finds a style by its file names: write style {style_id!r} to "
                          f"{out.parent / model_filename(style_id)}, not {out}")
    style_image = req.style_image or config.get("style_image") or (config.get("style_images") or [None])[0]
    if not style_image:
        raise ExportError("the checkpoint does not record its style image: pass --style-image")
    if not Path(style_image).is_file():
        raise ExportError(f"style image not found: {style_image} (pass --style-image)")
    if (req.int8 or req.fp16 or req.halfres or req.steady) and not req.eval_photos and not req.calibration_photos:
        raise ExportError("variants are judged on photos: pass --eval-photos (or --calibration-photos)")
    if req.int8 and not req.calibration_photos:
        raise ExportError("--int8 needs --calibration-photos DIR (a folder of photos like the ones users send)")
    for folder in (req.calibration_photos, req.eval_photos):
        if folder and not Path(folder).is_dir():
            raise ExportError(f"photo folder not found: {folder}")
    return style_id, style_image


def export_model(req: ExportRequest, echo=print) -> dict:
    """Do the export; returns the model card that was written."""
    net, config, step, segments, ancestry = cards.load_checkpoint(req.checkpoint)
    style_id, style_image = validate(req, config)
    steady = steady_network(req.steady, net, config) if req.steady else None
    out = Path(req.out)
    summary = cards.training_summary(req.checkpoint, config, step, segments, ancestry)
    public = req.without_paths if req.without_paths is not None else style_id.startswith(USER_STYLE_PREFIX)
    if public:
        summary = without_paths(summary)
    name = req.name or style_id.replace("_", " ").replace("-", " ").title()
    if req.style_license == "unknown":
        echo("warning: --style-license not given; the model card says the painting's licence is 'unknown'")
    metadata = {"style_id": style_id, "name": name, "artist": req.artist, "year": req.year,
                "style_license": req.style_license, "training_summary": summary}
    styles = network_styles(req, config, net.num_styles)
    if req.join:
        net, joined = join(net, style_id, req.join)
        styles = [*joined, {"id": style_id, "index": len(joined), "name": name, "artist": req.artist,
                            "year": cards.parse_year(req.year), "image": style_image}]
    proto = to_onnx(net, metadata, [s["id"] for s in styles] if styles else None)

    parity = write_checked(proto, net, out, req, echo)
    card = cards.model_card(style_id, name, req.artist, req.year, req.style_license, style_image, out, summary,
                            parity, exporter_version(), req.dataset_license)
    card["evaluation_defaults"] = cards.evaluation_defaults(config, style_image)
    if styles:
        card["styles"] = [style_card(s, req.style_license) for s in styles]
        card["evaluation_defaults"]["style_images"] = {s["id"]: str(s["image"]) for s in styles if "image" in s}
    variants = {}
    if req.fp16:
        variants["fp16"] = to_fp16_weights(proto)
    if req.halfres:
        variants["halfres"] = to_onnx(net, metadata, [s["id"] for s in styles] if styles else None, halfres=True)
    if req.int8:
        options = {**INT8_DEFAULTS, **req.int8_options}
        echo(f"int8: calibrating on {options['calibration_count']} photos from {req.calibration_photos} ...")
        variants["int8"] = to_int8(proto, req.calibration_photos, **options)
        set_metadata(variants["int8"], {"quantization": options})
    references = {}
    with tempfile.TemporaryDirectory() as scratch:
        if steady:
            steady_net, trained = steady
            variants[STEADY_VARIANT], references[STEADY_VARIANT] = steady_files(steady_net, trained, metadata, styles,
                                                                                scratch)
            card["variants_training"] = {STEADY_VARIANT: without_paths(trained) if public else trained}
        if variants:
            judge_variants(card, variants, style_id, style_image, out, req, config, echo, references)
    card_path = out.with_name(card_filename(style_id))
    write_card(without_paths(card) if public else card, card_path)
    echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) and {card_path}")
    return card


def write_checked(proto, net, out: Path, req: ExportRequest, echo) -> list:
    """Write under a temporary name, check it the way it will be served, then move it into place; returns the
    parity table: every size for the first style, three for each other style and for a blend."""
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        save(proto, partial)
        parity = []
        for i, mix in enumerate(parity_mixes(net.num_styles, focus=net.num_styles - 1 if req.join else None)):
            parity += check_parity(net, partial, req.parity_sizes[:None if i == 0 else 3], style_weights=mix)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    echo(f"parity with PyTorch ({out.name}):")
    for row in parity:
        echo(f"  {row['size']:>9}  max abs error {row['max_abs_error']:.2e}  PSNR {row['psnr_db'] or 'inf'} dB"
             + (f"  (style weights {row['style_weights']})" if "style_weights" in row else ""))
    return parity


def steady_network(checkpoint, net, config: dict) -> tuple:
    """The steady network and its training summary, checked before anything is written: it must have the main
    network's styles, painting for painting, in the same order, or a style id would pick another painting."""
    steady, steady_config, step, segments, ancestry = cards.load_checkpoint(checkpoint)
    paintings = lambda c: ", ".join(Path(p).name for p in c.get("style_images") or []) or "not recorded"  # noqa: E731
    if steady.num_styles != net.num_styles or paintings(steady_config) != paintings(config):
        raise ExportError(f"--steady {checkpoint}: its styles ({paintings(steady_config)}) are not the main "
                          f"network's ({paintings(config)})")
    return steady, cards.training_summary(checkpoint, steady_config, step, segments, ancestry)


def steady_files(steady, trained: dict, metadata: dict, styles, scratch) -> tuple:
    """The steady network's file in its halfres layout, and the path of its own fp32 file: what that file is judged
    against, since the main network is another network."""
    ids = [s["id"] for s in styles] if styles else None
    own = {**metadata, "training_summary": trained}
    reference = Path(scratch) / model_filename(STEADY_VARIANT)
    save(to_onnx(steady, own, ids), reference)
    return to_onnx(steady, own, ids, halfres=True), reference


def judge_variants(card: dict, variants: dict, style_id, style_image, out: Path, req: ExportRequest, config, echo,
                   references: dict):
    """Write each variant beside the main file and record in the card how near it stays, on the photos, to the main
    file (or to its own fp32 file in `references`: the steady network's)."""
    card["variants"] = {}
    photos_dir = req.eval_photos or req.calibration_photos
    photos = [t.numpy().transpose(1, 2, 0) for _, t in load_photos(photos_dir, req.eval_size)]
    for variant, model in variants.items():
        path = out.with_name(model_filename(style_id, variant))
        set_metadata(model, {"variant": variant})
        size = save(model, path)
        quality = variant_quality(Stylizer.from_file(references.get(variant, out)), Stylizer.from_file(path), photos)
        card["variants"][variant] = {"file": path.name, "bytes": size, "sha256": cards.file_sha256(path),
                                     **quality}
        echo(f"{variant}: {path} ({size / 1e6:.1f} MB), PSNR vs fp32 {quality['psnr_vs_fp32_db']} dB "
             f"(min {quality['psnr_vs_fp32_min_db']}) on {len(photos)} photos")
    losses = perceptual_losses(out, [out.with_name(model_filename(style_id, v)) for v in variants], photos_dir,
                               style_image, req, config, echo)
    if losses:
        card["variants_losses"] = losses


def parity_mixes(num_styles: int, focus: int | None = None) -> list:
    """The style weights parity is checked for: none for one style; else each style alone and one blend. With a
    focus (a style joined to a checked network), that style alone, the first and a blend of the two."""
    if num_styles == 1:
        return [None]
    one_hot = np.eye(num_styles, dtype=np.float32)
    blend = np.zeros(num_styles, np.float32)
    if focus is None:
        blend[:2] = (0.6, 0.4)
        return [*one_hot, blend]
    blend[[focus, 0]] = (0.6, 0.4)
    return [one_hot[focus], one_hot[0], blend]


def network_styles(req: ExportRequest, config: dict, num_styles: int) -> list | None:
    """A multi-style network's styles in index order: id, index, name, artist, year (from --catalog), and the
    painting it was trained on."""
    if num_styles == 1:
        return None
    ids, images = config.get("style_ids") or [], config.get("style_images") or []
    if len(ids) != num_styles or len(images) != num_styles:
        raise ExportError(f"the checkpoint does not record its {num_styles} style ids and paintings")
    catalog = {}
    if req.catalog:
        if not Path(req.catalog).is_file():
            raise ExportError(f"catalog not found: {req.catalog}")
        catalog = {entry["id"]: entry for entry in json.loads(Path(req.catalog).read_text())["styles"]}
    styles = []
    for index, (style_id, image) in enumerate(zip(ids, images, strict=True)):
        if not is_style_id(style_id):
            raise ExportError(f"style id {style_id!r}: use {STYLE_ID_RULE}")
        if not Path(image).is_file():
            raise ExportError(f"painting of style {style_id!r} not found: {image}")
        entry = catalog.get(style_id, {})
        styles.append({"id": style_id, "index": index,
                       "name": entry.get("name") or style_id.replace("_", " ").title(),
                       "artist": entry.get("artist"), "year": cards.parse_year(entry.get("year")), "image": image})
    return styles


def style_card(style: dict, style_license: str) -> dict:
    """One style's entry in a multi-style network's card: what GET /styles shows for it. A joined style's entry
    (export/join.py) is its base card's, as it is."""
    if "image" not in style:
        return style
    listed = {k: v for k, v in style.items() if k != "image"}
    return {**listed, "style_license": style_license, "thumbnail": cards.thumbnail_data_url(style["image"]),
            "style_image": {"file": Path(style["image"]).name, "sha256": cards.file_sha256(style["image"])}}


def variant_quality(reference: Stylizer, variant: Stylizer, photos: list) -> dict:
    """PSNR of a variant against fp32; a multi-style network's photos go through its styles in turn."""
    pairs = [(reference.for_style(s), variant.for_style(s)) for s in reference.style_ids] or [(reference, variant)]
    clamped = lambda stylizer, photo: np.clip(stylizer.stylize(photo), PIXEL_MIN, PIXEL_MAX)  # noqa: E731
    values = []
    for i, photo in enumerate(photos):
        ref, var = pairs[i % len(pairs)]
        values.append(psnr(clamped(ref, photo), clamped(var, photo)))
    finite = [v for v in values if np.isfinite(v)] or [float("inf")]
    return {"psnr_vs_fp32_db": round(float(np.mean(finite)), 2), "psnr_vs_fp32_min_db": round(float(min(finite)), 2),
            "photos": len(photos)}


def perceptual_losses(fp32_path, variant_paths, photos_dir, style_image, req, config, echo) -> dict | None:
    """Content and style losses of `training evaluate` for fp32 and each variant, and their ratios to fp32;
    a multi-style network's are the means over its styles, each against its own painting."""
    from training.evaluate import evaluate

    vgg = req.vgg_weights or config.get("vgg_weights")
    if not vgg:
        echo("note: no --vgg-weights and none recorded in the checkpoint: variants judged by PSNR only")
        return None
    if vgg not in ("torchvision", "random") and not Path(vgg).is_file():
        raise ExportError(f"VGG weights not found: {vgg} (make vgg-weights, or pass --vgg-weights)")
    # A multi-style checkpoint records a painting per style (network_styles checked it); one style: the card's.
    ids, images = config.get("style_ids") or [], config.get("style_images") or []
    paintings = dict(zip(ids, images, strict=True)) if len(ids) > 1 else {None: style_image}
    results = {}
    for path in [fp32_path, *variant_paths]:
        reports = [evaluate(path, photos_dir, style_image=image, vgg_weights=vgg, image_size=req.eval_size, style=sid)
                   for sid, image in paintings.items()]
        results[Path(path).name] = {k: float(np.mean([r[k] for r in reports])) for k in ("content", "style", "tv")}
    base = results[Path(fp32_path).name]
    for name, row in results.items():
        row["content_vs_fp32"] = round(row["content"] / base["content"], 4) if base["content"] else None
        row["style_vs_fp32"] = round(row["style"] / base["style"], 4) if base["style"] else None
        echo(f"losses {name:>24}: content {row['content']:.5g} ({row['content_vs_fp32']}x fp32), "
             f"style {row['style']:.5g} ({row['style_vs_fp32']}x fp32)")
    return {"photos": str(photos_dir), "image_size": req.eval_size, "loss_network": vgg,
            "styles": len(paintings), **results}


def describe(path) -> str:
    """The metadata of an exported file, for `python -m export --show FILE`."""
    proto = onnx.load(path, load_external_data=False)
    meta = read_metadata(proto)
    for key in ("training_summary", "quantization"):
        if key in meta:
            meta[key] = json.loads(meta[key])
    return json.dumps({"opset": [o.version for o in proto.opset_import], "ir_version": proto.ir_version,
                       "inputs": [i.name for i in proto.graph.input], "outputs": [o.name for o in proto.graph.output],
                       "metadata": meta}, indent=2)
