"""Brush size: a large photo looks like its preview, the painting comes back to full size sharp, and photos at or
under the working size are painted as before."""

import io

import numpy as np
import pytest
import stylecore.options
from PIL import Image
from stylecore import InvalidParameter, StyleRegistry, decode_image, stylize_bytes, stylize_pixels
from stylecore.brush import painting_size, resize_rgb, upsample_naive, upsample_painting
from stylecore.options import BRUSH_RANGE, BRUSH_WORKING_SIDE, StylizeOptions, working_side
from synthetic import synthetic_photo

from export.parity import psnr

SMALL_WORKING_SIDE = 128  # the tests' working side, so that a "large" photo stays cheap to paint at full size


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def gradient_energy(rgb: np.ndarray) -> float:
    """Mean absolute difference of neighbouring pixels (the quality kit's TV): higher is sharper."""
    values = rgb.astype(np.float32)
    return float((np.abs(np.diff(values, axis=0)).mean() + np.abs(np.diff(values, axis=1)).mean()) / 2)


@pytest.fixture(scope="module")
def stylizer(onnx_models_dir):
    return StyleRegistry.from_dir(onnx_models_dir).get("test_a")


@pytest.fixture
def small_working_side(monkeypatch):
    monkeypatch.setattr(stylecore.options, "BRUSH_WORKING_SIDE", SMALL_WORKING_SIDE)


def test_working_size_follows_the_brush():
    assert working_side(1.0) == BRUSH_WORKING_SIDE
    assert working_side(2.0) == BRUSH_WORKING_SIDE // 2  # a larger brush: a smaller painting, bigger strokes
    assert working_side(BRUSH_RANGE[0]) == 8192 == stylecore.options.MAX_SIZE_RANGE[1]
    assert painting_size(4000, 3000, 1.0) == (1024, 768)
    assert painting_size(800, 600, 1.0) == (800, 600)  # never enlarged
    assert painting_size(4000, 3000, None) == (4000, 3000)


@pytest.mark.parametrize("brush", [0.1, 4.5, "1", True, None])
def test_brush_out_of_range_is_refused(brush):
    with pytest.raises(InvalidParameter, match="brush"):
        StylizeOptions(brush=brush).checked()


def test_photos_at_or_under_the_working_size_are_painted_as_before(stylizer, small_working_side):
    for width, height in ((128, 96), (90, 120)):
        photo = synthetic_photo(width, height, seed=3)
        today = stylize_pixels(decode_image(png(photo)), stylizer)  # brush None: the photo's own size
        for brush in (BRUSH_RANGE[0], 1.0):
            result = pixels(stylize_bytes(png(photo), stylizer, output_format="png", brush=brush).image)
            np.testing.assert_array_equal(result, today)


def test_a_large_photo_looks_like_its_preview_at_the_default_brush(stylizer, small_working_side):
    """512x384 against its 128 px preview (the working side of the test): painted at full size, as before, its
    strokes are four times smaller than the preview's; at the default brush it is the preview, brought up."""
    photo = png(synthetic_photo(512, 384, seed=11))
    preview = pixels(stylize_bytes(photo, stylizer, output_format="png", max_size=SMALL_WORKING_SIDE).image)
    size = preview.shape[1::-1]
    today = pixels(stylize_bytes(photo, stylizer, output_format="png", max_size=None, brush=BRUSH_RANGE[0]).image)
    default = pixels(stylize_bytes(photo, stylizer, output_format="png", max_size=None).image)
    assert default.shape == today.shape == (384, 512, 3)
    today_psnr, default_psnr = psnr(resize_rgb(today, size), preview), psnr(resize_rgb(default, size), preview)
    assert default_psnr > 30 and default_psnr > today_psnr + 5, (default_psnr, today_psnr)


def painted_like_a_style(small: np.ndarray) -> np.ndarray:
    """A painting whose colours follow the photo's edges (a colour map of it) with strokes of its own on top: what
    a style network does, with the share of each known."""
    y, x = np.mgrid[0:small.shape[0], 0:small.shape[1]]
    strokes = 20 * np.sin(x / 2.0 + y / 3.0)[..., None]
    return (0.7 * small.astype(np.float32) + 40 + strokes)[..., ::-1].copy()


def high_frequencies(image: np.ndarray, small_size: tuple) -> np.ndarray:
    """What an image has above the frequencies of its copy at small_size."""
    small = resize_rgb(np.rint(np.clip(image, 0, 255)).astype(np.uint8), small_size)
    return image.astype(np.float32) - upsample_naive(small.astype(np.float32), image.shape[1::-1])


def test_upsampling_is_sharper_than_bicubic_along_the_photos_edges():
    photo = np.asarray(synthetic_photo(512, 384, seed=12))
    small = resize_rgb(photo, (128, 96))
    painting = painted_like_a_style(small)
    guided = np.clip(upsample_painting(painting, small, photo), 0, 255)
    naive = np.clip(upsample_naive(painting, (512, 384)), 0, 255)
    assert gradient_energy(guided) > 1.25 * gradient_energy(naive)  # measured 3.88 against 2.80
    # the detail added is the photo's: the high frequencies of the result correlate with the photo's
    photo_detail = high_frequencies(photo, (128, 96)).mean(axis=-1)
    correlation = lambda image: float(np.corrcoef(high_frequencies(image, (128, 96)).mean(axis=-1).ravel(),  # noqa: E731
                                                  photo_detail.ravel())[0, 1])
    assert correlation(guided) > correlation(naive) + 0.3


def test_upsampling_keeps_the_painting(stylizer):
    """The detail is above the painting's frequencies: downscaled again, the result is the network's painting."""
    photo = np.asarray(synthetic_photo(512, 384, seed=12))
    small = resize_rgb(photo, (128, 96))
    painting = stylizer.stylize(small)
    guided = np.clip(upsample_painting(painting, small, photo), 0, 255)
    back = resize_rgb(np.rint(guided).astype(np.uint8), (128, 96))
    assert psnr(back, np.clip(painting, 0, 255)) > 30


def test_results_stay_within_the_size_caps(stylizer, small_working_side):
    photo = png(synthetic_photo(300, 200, seed=13))
    result = stylize_bytes(photo, stylizer, max_size=256, max_pixels=20_000, brush=4.0)
    assert result.width <= 256 and result.width * result.height <= 20_000
