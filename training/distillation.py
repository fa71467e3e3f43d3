"""Distillation (Hinton et al. 2015, for an image-to-image network): a narrower transformer network learns
faster from a wider trained one's outputs (one target per photo) than from the perceptual losses alone, which
it keeps. The loop adds this criterion when a run has a teacher (--teacher).

Two terms, each with its own weight: the mean squared difference to the teacher's output, pixel by pixel
(which a narrow network matches as a blur), and the same difference of the loss network's features at the
style layers, the quantities the style and content losses are made of, so that the strokes and their
placement are what it copies.
"""

import torch

from .losses import Losses, content_loss
from .vgg import STYLE_LAYERS


class Distillation:
    def __init__(self, teacher, loss_network, pixel_weight: float = 0.0, features_weight: float = 0.0,
                 layers=STYLE_LAYERS):
        self.teacher, self.loss_network, self.layers = teacher, loss_network, tuple(layers)
        self.pixel_weight, self.features_weight = pixel_weight, features_weight

    def add_to(self, losses: Losses, batch) -> None:
        """Add the terms for this batch (its photos, styles and output) to the perceptual losses, whose features
        of the output (losses.features) it reuses: the loss network runs once on the output."""
        with torch.no_grad():
            taught = self.teacher(batch.content, batch.styles)
        pixels = (batch.output.float() - taught.float()).square().mean()
        with torch.no_grad():
            targets = self.loss_network(taught, self.layers)
        gap = sum(content_loss(losses.features[n], targets[n]) for n in self.layers)
        losses.teacher, losses.teacher_features = pixels, gap
        losses.total = losses.total + self.pixel_weight * pixels + self.features_weight * gap
