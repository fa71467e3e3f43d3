"""Shared fixtures: small synthetic images made by the tests themselves."""

import warnings

import numpy as np
import pytest
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


@pytest.fixture
def photo_dir(tmp_path):
    """Eight small photos in a nested folder, as COCO-like datasets are searched recursively."""
    root = tmp_path / "photos"
    (root / "nested").mkdir(parents=True)
    for i in range(8):
        folder = root if i % 2 else root / "nested"
        synthetic_photo(40 + 4 * i, 36 + 2 * i, seed=i).save(folder / f"photo_{i}.jpg", quality=95)
    return root


@pytest.fixture
def style_image(tmp_path):
    path = tmp_path / "style.png"
    synthetic_photo(64, 48, seed=99).save(path)
    return path


@pytest.fixture(autouse=True)
def _quiet_random_vgg_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="VGG16 loss network with RANDOM weights")
        yield


# ------------------------------------------------------------------ ONNX models for the serving tests

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


@pytest.fixture(scope="session")
def onnx_models_dir(tmp_path_factory):
    """A models folder with two small ONNX models ("test_a", "test_b") and their model cards, made by our exporter."""
    import torch

    from export.exporter import ExportRequest, export_model

    root = tmp_path_factory.mktemp("onnx_models")
    models = root / "models"
    models.mkdir()
    painting = root / "painting.png"
    synthetic_photo(96, 64, seed=7).save(painting)
    for style_id, seed, artist in (("test_a", 1, "Test Painter A"), ("test_b", 2, "Test Painter B")):
        checkpoint = root / f"{style_id}.pth"
        torch.save({"model": styled_test_transformer(seed).state_dict(),
                    "config": {"style_image": str(painting), "vgg_weights": "random", "style_size": 64},
                    "step": 0}, checkpoint)
        export_model(ExportRequest(checkpoint=str(checkpoint), out=str(models / f"{style_id}.onnx"),
                                   name=f"Test style {style_id[-1].upper()}", artist=artist, year="1900",
                                   style_license="public domain", parity_sizes=((32, 32), (21, 37))),
                     echo=lambda *args: None)
    return models
