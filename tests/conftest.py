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
