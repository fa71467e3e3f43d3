"""Masks: the style where the mask is white, the photo where it is black, each on its own side; hostile masks get a
clear 4xx through the handler; faces kept closer to the photo."""

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from api_helpers import assert_contract, http_event, image_bytes, invoke, load_handler
from PIL import Image
from stylecore import ImageTooLarge, InvalidImage, StyleRegistry, stylize_bytes
from stylecore.faces import FACE_STYLE, face_boxes, face_weight
from synthetic import synthetic_photo
from test_handler_inference import huge_png_header

from export.parity import psnr

ASTRONAUT = Path(__file__).resolve().parent.parent / "sample_gallery" / "astronaut.jpg"  # a frontal portrait


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def half_mask(width: int, height: int) -> Image.Image:
    """White on the left half, black on the right."""
    mask = np.zeros((height, width), np.uint8)
    mask[:, : width // 2] = 255
    return Image.fromarray(mask, "L")


@pytest.fixture(scope="module")
def stylizer(onnx_models_dir):
    return StyleRegistry.from_dir(onnx_models_dir).get("test_a")


@pytest.fixture(scope="module")
def photo():
    return synthetic_photo(96, 64, seed=21)


@pytest.fixture(scope="module")
def styled(stylizer, photo):
    return pixels(stylize_bytes(encoded(photo), stylizer, output_format="png").image)


def masked(stylizer, photo, mask: Image.Image, **options) -> np.ndarray:
    return pixels(stylize_bytes(encoded(photo), stylizer, mask=encoded(mask), output_format="png", **options).image)


def test_a_black_mask_returns_the_photo_and_a_white_one_the_style(stylizer, photo, styled):
    np.testing.assert_array_equal(masked(stylizer, photo, Image.new("L", (96, 64), 0)), np.asarray(photo))
    np.testing.assert_array_equal(masked(stylizer, photo, Image.new("L", (96, 64), 255)), styled)


def test_a_half_mask_puts_each_on_its_own_side(stylizer, photo, styled):
    result = masked(stylizer, photo, half_mask(96, 64))
    assert psnr(result[:, :47], styled[:, :47]) > 60  # away from the edge the bilinear resize softens by a pixel
    assert psnr(result[:, 49:], np.asarray(photo)[:, 49:]) > 60
    assert psnr(result[:, :47], np.asarray(photo)[:, :47]) < 25


def test_a_mask_of_another_size_is_stretched_and_soft_edges_kept(stylizer, photo, styled):
    result = masked(stylizer, photo, half_mask(24, 16).convert("RGB"))  # a quarter the size, and in colour
    assert psnr(result[:, :44], styled[:, :44]) > 60 and psnr(result[:, 52:], np.asarray(photo)[:, 52:]) > 60
    ramp = Image.fromarray(np.tile(np.linspace(0, 255, 96).astype(np.uint8), (64, 1)), "L")
    soft = masked(stylizer, photo, ramp).astype(float)
    weight = np.linspace(0, 1, 96)[None, :, None]
    expected = weight * styled + (1 - weight) * np.asarray(photo, float)
    assert np.abs(soft - expected).max() <= 1.5


def test_a_mask_multiplies_strength_and_a_1x1_mask_is_one_strength(stylizer, photo, styled):
    gray = masked(stylizer, photo, Image.new("L", (1, 1), 255), strength=0.5).astype(float)
    expected = 0.5 * styled + 0.5 * np.asarray(photo, float)
    assert np.abs(gray - expected).max() <= 1.0
    np.testing.assert_array_equal(masked(stylizer, photo, Image.new("L", (1, 1), 255)), styled)


@pytest.mark.parametrize("mask, error", [
    (b"not an image at all", InvalidImage),
    (huge_png_header(), ImageTooLarge),
    (encoded(Image.merge("LA", (Image.new("L", (8, 8), 0), half_mask(8, 8)))), InvalidImage),  # alpha only
], ids=["not-an-image", "decode-bomb", "alpha-only"])
def test_hostile_masks_are_refused_naming_the_mask(stylizer, photo, mask, error):
    with pytest.raises(error, match="mask"):
        stylize_bytes(encoded(photo), stylizer, mask=mask)


def test_an_opaque_alpha_channel_is_ignored(stylizer, photo, styled):
    opaque = Image.new("RGBA", (96, 64), (255, 255, 255, 255))
    np.testing.assert_array_equal(masked(stylizer, photo, opaque), styled)


# ------------------------------------------------------------------------------------------- faces

@pytest.fixture(scope="module")
def portrait():
    return np.asarray(Image.open(ASTRONAUT).convert("RGB"))


def test_a_frontal_face_is_found_and_protected(portrait):
    boxes = face_boxes(portrait)
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    assert 150 < x + w / 2 < 280 and 40 < y + h / 2 < 160 and w > 50  # her face, in the upper middle
    weight = face_weight(portrait)
    assert weight[round(y + h / 2), round(x + w / 2)] == pytest.approx(FACE_STYLE)
    assert weight[500, 30] == 1.0 and weight.min() >= FACE_STYLE


def test_protect_faces_keeps_the_face_closer_to_the_photo(stylizer, portrait):
    x, y, w, h = (round(v) for v in face_boxes(portrait)[0])
    data = encoded(Image.fromarray(portrait))
    plain = pixels(stylize_bytes(data, stylizer, output_format="png").image)
    kept = pixels(stylize_bytes(data, stylizer, output_format="png", protect_faces=True).image)
    face = np.s_[y:y + h, x:x + w]
    assert psnr(kept[face], portrait[face]) > psnr(plain[face], portrait[face]) + 6
    np.testing.assert_array_equal(kept[400:, :100], plain[400:, :100])  # away from the face: untouched
    no_face = synthetic_photo(80, 60, seed=2)
    assert face_weight(np.asarray(no_face)) is None


# --------------------------------------------------------------------------------- through the API

@pytest.fixture(scope="module")
def inference(onnx_models_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELS_DIR", str(onnx_models_dir))
        yield load_handler("lambda_inference")


def stylize(module, body):
    status, headers, payload = invoke(module, http_event("POST", "/stylize", body))
    assert_contract("/stylize", "POST", status, headers, payload)
    return status, payload


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("mask, status, code", [
    (b64(b"hello, I am not an image"), 400, "invalid_image"),
    (b64(huge_png_header()), 413, "image_too_large"),
    (b64(encoded(Image.merge("LA", (Image.new("L", (8, 8), 0), half_mask(8, 8))))), 400, "invalid_image"),
    (b64(image_bytes(64, 64)[:300]), 400, "invalid_image"),
    ("@@@ not base64 @@@", 400, "invalid_base64"),
    ("", 400, "invalid_image"),
    (7, 400, "invalid_request"),
    ({"mask": "nested"}, 400, "invalid_request"),
], ids=["not-an-image", "decode-bomb", "alpha-only", "truncated", "not-base64", "empty", "number", "object"])
def test_hostile_masks_get_their_documented_4xx(inference, mask, status, code):
    got, payload = stylize(inference, {"image": b64(image_bytes(40, 30)), "style": "test_a", "mask": mask})
    assert (got, payload["error"]["code"]) == (status, code), payload
    assert "mask" in payload["error"]["message"]


def test_the_api_takes_a_mask_a_brush_and_protect_faces(inference):
    photo = image_bytes(40, 30, "PNG", seed=4)
    body = {"image": b64(photo), "style": "test_a", "format": "png", "mask": b64(encoded(Image.new("L", (1, 1))))}
    status, payload = stylize(inference, body)
    assert status == 200
    result = np.asarray(Image.open(io.BytesIO(base64.b64decode(payload["image"]))).convert("RGB"))
    np.testing.assert_array_equal(result, np.asarray(Image.open(io.BytesIO(photo)).convert("RGB")))
    status, _ = stylize(inference, {"image": b64(photo), "style": "test_a", "brush": 2, "protect_faces": True})
    assert status == 200
    for brush, code in ((0.01, "invalid_parameter"), ("big", "invalid_request"), (True, "invalid_request")):
        status, payload = stylize(inference, {"image": b64(photo), "style": "test_a", "brush": brush})
        assert (status, payload["error"]["code"]) == (400, code) and "brush" in payload["error"]["message"]
