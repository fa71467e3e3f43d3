"""What the tests make for themselves, shared by many modules: photo-like images and a transformer network
whose output spans the pixel range. Fixtures built on them are in conftest.py."""

import numpy as np
from PIL import Image


def synthetic_photo(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like image: smooth gradients, a few rectangles and some noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([
        128 + 100 * np.sin(x / (5 + 10 * rng.random()) + rng.random() * 6),
        128 + 100 * np.cos(y / (5 + 10 * rng.random()) + rng.random() * 6),
        255 * (x + y) / (width + height),
    ], axis=-1)
    for _ in range(3):
        x0, y0 = rng.integers(0, width // 2), rng.integers(0, height // 2)
        image[y0:y0 + height // 3, x0:x0 + width // 3] = rng.integers(0, 255, 3)
    image += rng.normal(0, 8, image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def styled_test_transformer(seed: int):
    """A TransformerNet with fixed random weights whose output spans the pixel range.

    A freshly initialised network returns values near 0 (a black image once clamped), which would
    hide colour, strength and tiling bugs; scaling the last convolution and centring it on grey
    gives a varied, photo-dependent output.
    """
    import torch

    from training.model import TransformerNet

    torch.manual_seed(seed)
    net = TransformerNet().eval()
    with torch.no_grad():
        net.conv_out.conv.weight.mul_(40.0)
        net.conv_out.conv.bias.fill_(128.0)
    return net
