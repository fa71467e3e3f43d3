"""Score a model on a folder of photos with the training losses: this is how models are compared.

For each photo: content loss (stylized vs photo at the content layer), style loss (Gram
matrices vs the style image's), total variation; all unweighted, as in training. The photos
are used at their own size unless --image-size is given (short side).
"""

import json
from pathlib import Path

import torch

from .data import find_images, load_rgb, load_style_image, resize_short_side, to_tensor
from .losses import PerceptualLoss, content_loss, gram_matrix, style_loss, tv_loss
from .model import load_transformer
from .vgg import load_loss_network


def load_checkpoint_stylizer(path):
    """A callable (3, H, W) 0..255 -> (3, H, W) 0..255 and the training config saved with it."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = checkpoint["model"] if "model" in checkpoint else checkpoint
    net = load_transformer(state)

    @torch.no_grad()
    def stylize(photo):
        return net(photo.unsqueeze(0)).clamp(0, 255)[0]

    return stylize, checkpoint.get("config", {})


def load_onnx_stylizer(path):
    """An exported ONNX model, run through the inference core exactly as it is served; defaults from its card."""
    import numpy as np
    from stylecore import Stylizer  # only here: the training world needs the serving core for ONNX files alone

    card_path = Path(path).with_name(Path(path).name.split(".")[0] + ".json")  # x.int8.onnx shares x.json
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    stylizer = Stylizer.from_file(path)

    def stylize(photo):
        out = stylizer.stylize(photo.permute(1, 2, 0).numpy())
        return torch.from_numpy(np.clip(out, 0, 255).transpose(2, 0, 1).copy())

    return stylize, card.get("evaluation_defaults", {})


STYLIZER_LOADERS = {".pth": load_checkpoint_stylizer, ".pt": load_checkpoint_stylizer, ".onnx": load_onnx_stylizer}


def load_stylizer(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model not found: {path}")
    loader = STYLIZER_LOADERS.get(path.suffix.lower())
    if loader is None:
        raise ValueError(f"{path}: unsupported model type {path.suffix!r} (use {', '.join(STYLIZER_LOADERS)})")
    return loader(path)


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
    layers = set(criterion.style_layers) | {criterion.content_layer}
    out = criterion.loss_network(stylized.unsqueeze(0), layers)
    target = criterion.content_targets(photo.unsqueeze(0))
    return {
        "content": float(content_loss(out[criterion.content_layer], target)),
        "style": float(style_loss({n: gram_matrix(out[n]) for n in criterion.style_layers}, criterion.style_targets())),
        "tv": float(tv_loss(stylized.unsqueeze(0))),
    }


def evaluate(model, photos_dir, style_image=None, vgg_weights=None, style_size=None, content_layer=None,
             image_size=None, per_image=False) -> dict:
    stylize, config = load_stylizer(model)
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
                      args.content_layer, args.image_size, args.per_image)
    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
