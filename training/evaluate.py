"""Score a model on a folder of photos with the training losses: this is how models are compared.

For each photo: content loss (stylized vs photo at the content layer), style loss (Gram
matrices vs the style image's), total variation; all unweighted, as in training. The photos
are used at their own size unless --image-size is given (short side).
"""

import json
from pathlib import Path

import torch
from stylecore.modelfiles import card_path, read_card

from .data import find_images, load_rgb, load_style_image, resize_short_side, to_tensor
from .losses import PerceptualLoss
from .model import load_transformer
from .vgg import load_loss_network


def load_checkpoint_stylizer(path, style=None):
    """A callable (3, H, W) 0..255 -> (3, H, W) 0..255 and the training config saved with it, for one style."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = checkpoint["model"] if "model" in checkpoint else checkpoint
    net = load_transformer(state)
    config = dict(checkpoint.get("config", {}))
    index = style_index(config.get("style_ids") or [None], style)
    styles = None if net.num_styles == 1 else torch.tensor([index])
    if config.get("style_images"):
        config["style_image"] = config["style_images"][index]

    @torch.no_grad()
    def stylize(photo):
        return net(photo.unsqueeze(0), styles).clamp(0, 255)[0]

    return stylize, config


def style_index(style_ids: list, style) -> int:
    if style is None:
        return 0
    if style not in style_ids:
        raise ValueError(f"style {style!r} is not in this model (it has {', '.join(map(str, style_ids))})")
    return style_ids.index(style)


def load_onnx_stylizer(path, style=None):
    """An exported ONNX model, run through the inference core exactly as it is served; defaults from its card."""
    import numpy as np
    from stylecore import Stylizer  # only here: the training world needs the serving core for ONNX files alone

    card = read_card(card_path(path))  # x.int8.onnx shares x.json
    stylizer = Stylizer.from_file(path)
    defaults = card.get("evaluation_defaults", {})
    if stylizer.style_ids:  # a multi-style network: one of its styles, judged against that style's painting
        style = style or stylizer.style_ids[0]
        style_index(stylizer.style_ids, style)
        stylizer = stylizer.for_style(style)
        defaults = {**defaults, "style_image": defaults.get("style_images", {}).get(style)}
    elif style is not None:
        raise ValueError(f"--style {style}: {path} has one style")

    def stylize(photo):
        out = stylizer.stylize(photo.permute(1, 2, 0).numpy())
        return torch.from_numpy(np.clip(out, 0, 255).transpose(2, 0, 1).copy())

    return stylize, defaults


STYLIZER_LOADERS = {".pth": load_checkpoint_stylizer, ".pt": load_checkpoint_stylizer, ".onnx": load_onnx_stylizer}


def load_stylizer(path, style=None):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model not found: {path}")
    loader = STYLIZER_LOADERS.get(path.suffix.lower())
    if loader is None:
        raise ValueError(f"{path}: unsupported model type {path.suffix!r} (use {', '.join(STYLIZER_LOADERS)})")
    return loader(path, style)


def load_photos(folder, image_size=None) -> list:
    photos = []
    for path in find_images(folder):
        image = load_rgb(path)
        if image_size:
            image = resize_short_side(image, image_size)
        photos.append((path.name, to_tensor(image)))
    return photos


@torch.no_grad()
def score(criterion: PerceptualLoss, photo: torch.Tensor, stylized: torch.Tensor) -> dict:
    """The training criterion's unweighted losses for one photo (the loss that trains is the loss that judges)."""
    losses = criterion(stylized.unsqueeze(0), photo.unsqueeze(0))
    return {k: float(getattr(losses, k)) for k in ("content", "style", "tv")}


def evaluate(model, photos_dir, style_image=None, vgg_weights=None, style_size=None, content_layer=None,
             image_size=None, per_image=False, style=None) -> dict:
    stylize, config = load_stylizer(model, style)
    style_image = style_image or config.get("style_image")
    if not style_image:
        raise ValueError("--style-image is needed: the model does not record its style image")
    vgg_weights = vgg_weights or config.get("vgg_weights", "torchvision")
    style_size = style_size or config.get("style_size")
    content_layer = content_layer or config.get("content_layer", "relu2_2")
    criterion = PerceptualLoss(load_loss_network(vgg_weights), load_style_image(style_image, style_size),
                               content_layer)
    rows = []
    for name, photo in load_photos(photos_dir, image_size):
        rows.append({"photo": name, **score(criterion, photo, stylize(photo).float())})
    means = {k: sum(r[k] for r in rows) / len(rows) for k in ("content", "style", "tv")}
    report = {
        "model": str(model), "photos": str(photos_dir), "count": len(rows), **means,
        "style_image": str(style_image), "style_size": style_size, "content_layer": content_layer,
        "loss_network": criterion.loss_network.source,
    }
    if per_image:
        report["per_image"] = rows
    return report


def main(args):
    report = evaluate(args.model, args.photos, args.style_image, args.vgg_weights, args.style_size,
                      args.content_layer, args.image_size, args.per_image, args.style)
    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
