"""Perceptual losses (Johnson et al. 2016, section 3): content (feature reconstruction),
style (Gram-matrix reconstruction) and total variation."""

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .vgg import STYLE_LAYERS, LossNetwork

# Weights that give a visibly stylized result on 256x256 crops, per preprocessing, because
# caffe-scale features (0..255 inputs) are about 57x larger than torchvision-scale ones, and a
# Gram matrix is quadratic in them. "caffe" is Johnson's own setting (content 1, style 5, and
# TV strength 1e-6 on a per-image sum, which is 0.2 on our per-pixel mean); "torchvision" is
# pytorch/examples' (content 1e5, style 1e10), with TV scaled to match.
DEFAULT_WEIGHTS = {
    "caffe": {"content": 1.0, "style": 5.0, "tv": 0.2},
    "torchvision": {"content": 1e5, "style": 1e10, "tv": 10.0},
}


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """G[c, c'] = sum over positions of F[c] * F[c'], divided by C*H*W.

    Always computed in float32, also under autocast: in half precision the sums over
    H*W products overflow or lose the small entries, a known source of NaNs.
    """
    n, c, h, w = features.shape
    flat = features.float().reshape(n, c, h * w)
    with torch.autocast(device_type=features.device.type, enabled=False):
        return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def content_loss(output_features: torch.Tensor, target_features: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(output_features.float(), target_features.float())


def per_image_style_loss(output_grams: dict, target_grams: dict) -> torch.Tensor:
    """(N,) style losses: per image, the sum over layers of the mean squared Gram difference.
    A target is (C, C) for the whole batch, or (N, C, C): each image's own painting."""
    total = 0.0
    for name, gram in output_grams.items():
        target = target_grams[name].expand_as(gram)
        total = total + (gram - target).pow(2).flatten(1).mean(dim=1)
    return total


def neighbour_differences(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Vertical and horizontal differences of neighbouring pixels, in float32."""
    images = images.float()
    return images[..., 1:, :] - images[..., :-1, :], images[..., :, 1:] - images[..., :, :-1]


def tv_loss(images: torch.Tensor, per_image: bool = False) -> torch.Tensor:
    """Total variation: mean squared difference of neighbouring pixels (0..255 scale); (N,) with per_image."""
    dh, dw = neighbour_differences(images)
    if per_image:
        return dh.pow(2).mean(dim=(1, 2, 3)) + dw.pow(2).mean(dim=(1, 2, 3))
    return dh.pow(2).mean() + dw.pow(2).mean()


def tv_abs_loss(images: torch.Tensor) -> torch.Tensor:
    """The quality kit's TV, per image (N,): the mean absolute neighbour difference (0..255), averaged over the
    two directions. The squared TV above acts mostly on a few large edges; this one weighs the fine texture a
    painting's strokes leave everywhere as much, which is what the kit measures."""
    dh, dw = neighbour_differences(images)
    return (dh.abs().mean(dim=(1, 2, 3)) + dw.abs().mean(dim=(1, 2, 3))) / 2


@dataclass
class Losses:
    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor
    total: torch.Tensor
    teacher: torch.Tensor | None = None  # with a teacher: the mean squared difference to its output (0..255)
    teacher_features: torch.Tensor | None = None  # and of the loss network's features, summed over the style layers
    shift: torch.Tensor | None = None  # with --shift-weight: the moved frame's difference (stability.py)
    # the output's loss-network features, for a criterion that compares them too (distillation.py): computed once
    features: dict | None = field(default=None, repr=False)

    def as_floats(self) -> dict:
        names = ("total", "content", "style", "tv", "teacher", "teacher_features", "shift")
        return {k: float(getattr(self, k).detach()) for k in names if getattr(self, k) is not None}


class PerceptualLoss(torch.nn.Module):
    """Eq. (1): the weighted sum of the content loss, the style loss and total variation, with the style targets
    computed once.

    One style image, or several (a multi-style network): then forward() takes each image's style
    index, each image's style loss is taken against its own painting's Gram matrices, and
    `style_weight` and `tv_weight` may be one weight per painting (paintings differ in how hard they pull,
    and in how much fine texture their strokes leave). `tv_abs_weight` (off by default) adds the quality kit's
    absolute TV (tv_abs_loss), likewise one weight or one per painting. Other criteria (distillation.py,
    stability.py) add their terms to the Losses this returns.
    """

    def __init__(self, loss_network: LossNetwork, style_images, content_layer: str = "relu2_2",
                 content_weight: float = 1.0, style_weight=5.0, tv_weight: float = 0.2,
                 style_layers=STYLE_LAYERS, tv_abs_weight=0.0):
        super().__init__()
        self.loss_network = loss_network
        self.content_layer = content_layer
        self.style_layers = tuple(style_layers)
        if isinstance(style_images, torch.Tensor):
            style_images = [style_images]
        self.num_styles = len(style_images)
        per_style = lambda w: [w] * self.num_styles if isinstance(w, int | float) else list(w)  # noqa: E731
        style_weights, tv_weights, tv_abs_weights = map(per_style, (style_weight, tv_weight, tv_abs_weight))
        for name, weights in (("style", style_weights), ("TV", tv_weights), ("absolute TV", tv_abs_weights)):
            if len(weights) != self.num_styles:
                raise ValueError(f"{len(weights)} {name} weights for {self.num_styles} style images")
        self.weights = {"content": content_weight, "style": style_weights, "tv": tv_weight}
        self.register_buffer("style_weights", torch.tensor(style_weights, dtype=torch.float32))
        self.register_buffer("tv_weights", torch.tensor(tv_weights, dtype=torch.float32))
        self.register_buffer("tv_abs_weights", torch.tensor(tv_abs_weights, dtype=torch.float32))
        self.uses_tv_abs = any(w != 0 for w in tv_abs_weights)
        grams = [self.grams_of(image) for image in style_images]
        for name in self.style_layers:
            self.register_buffer(f"gram_{name}", torch.stack([g[name] for g in grams]))  # (S, C, C)

    @torch.no_grad()
    def grams_of(self, image: torch.Tensor) -> dict:
        features = self.loss_network(image.unsqueeze(0) if image.dim() == 3 else image, self.style_layers)
        return {name: gram_matrix(f)[0] for name, f in features.items()}

    def style_targets(self, styles: torch.Tensor | None = None) -> dict:
        """Each layer's target Gram matrix: (C, C) for a one-style loss, else (N, C, C) for the images' styles."""
        if styles is None:
            if self.num_styles != 1:
                raise ValueError(f"a {self.num_styles}-style loss needs each image's style")
            return {name: getattr(self, f"gram_{name}")[0] for name in self.style_layers}
        return {name: getattr(self, f"gram_{name}")[styles] for name in self.style_layers}

    def content_targets(self, content: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.loss_network(content, (self.content_layer,))[self.content_layer]

    def per_style(self, weights: torch.Tensor, styles: torch.Tensor | None) -> torch.Tensor:
        """Each image's weight: a one-style loss's one weight, else its own painting's."""
        return weights[0] if styles is None else weights[styles]

    def forward(self, output: torch.Tensor, content: torch.Tensor, styles: torch.Tensor | None = None) -> Losses:
        """styles: each image's style index (N,); None for a one-style loss. Reported losses are unweighted."""
        target = self.content_targets(content)
        features = self.loss_network(output, set(self.style_layers) | {self.content_layer})
        c = content_loss(features[self.content_layer], target)
        per_image = per_image_style_loss({n: gram_matrix(features[n]) for n in self.style_layers},
                                         self.style_targets(styles))
        t = tv_loss(output, per_image=True)
        total = (self.weights["content"] * c + (self.per_style(self.style_weights, styles) * per_image).mean()
                 + (self.per_style(self.tv_weights, styles) * t).mean())
        if self.uses_tv_abs:
            total = total + (self.per_style(self.tv_abs_weights, styles) * tv_abs_loss(output)).mean()
        return Losses(c, per_image.mean(), t.mean(), total, features=features)
