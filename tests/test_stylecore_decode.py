"""Decoding untrusted bytes: modes, EXIF orientation, sizes, bombs and garbage."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from stylecore import ImageTooLarge, InvalidImage, InvalidParameter, decode_image, encode_image
from stylecore.imaging import fit_size


def to_bytes(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def upright_pattern() -> np.ndarray:
    """6 wide x 4 tall, every pixel different: any flip or turn changes it."""
    values = np.arange(6 * 4 * 3, dtype=np.uint8).reshape(4, 6, 3) * 3
    return values


# Stored pixels for each EXIF orientation, given the upright picture (the inverse of what a viewer does).
STORED_FOR_ORIENTATION = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # viewer mirrors horizontally
    3: lambda a: np.rot90(a, 2),
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),  # transpose is its own inverse
    6: lambda a: np.rot90(a, 1),  # viewer turns 90 degrees clockwise
    7: lambda a: np.rot90(a.transpose(1, 0, 2), 2),  # transverse is its own inverse
    8: lambda a: np.rot90(a, -1),  # viewer turns 90 degrees anticlockwise
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    upright = upright_pattern()
    stored = Image.fromarray(np.ascontiguousarray(STORED_FOR_ORIENTATION[orientation](upright)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode_image(to_bytes(stored, "PNG", exif=exif.tobytes()))
    np.testing.assert_array_equal(decoded.rgb, upright)


def test_rgba_keeps_alpha_and_colour():
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 200, 100, 50
    rgba[..., 3] = np.linspace(0, 255, 12, dtype=np.uint8)[None, :]
    decoded = decode_image(to_bytes(Image.fromarray(rgba, "RGBA")))
    np.testing.assert_array_equal(decoded.alpha, rgba[..., 3])
    np.testing.assert_array_equal(decoded.rgb, rgba[..., :3])


def test_la_gray_with_alpha():
    la = Image.merge("LA", [Image.new("L", (8, 6), 90), Image.new("L", (8, 6), 40)])
    decoded = decode_image(to_bytes(la))
    assert decoded.rgb.shape == (6, 8, 3) and (decoded.rgb == 90).all()
    assert (decoded.alpha == 40).all()


def test_palette_with_transparency():
    pal = Image.new("P", (9, 7), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.putpixel((0, 0), 0)
    decoded = decode_image(to_bytes(pal, transparency=0))
    assert tuple(decoded.rgb[3, 3]) == (255, 0, 0)
    assert decoded.alpha[0, 0] == 0 and decoded.alpha[3, 3] == 255


def test_palette_without_transparency_has_no_alpha():
    pal = Image.new("P", (9, 7), 0)
    pal.putpalette([10, 200, 30] + [0] * 765)
    decoded = decode_image(to_bytes(pal))
    assert decoded.alpha is None and tuple(decoded.rgb[0, 0]) == (10, 200, 30)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(fmt):
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # pure red ink mix
    decoded = decode_image(to_bytes(cmyk, fmt))
    r, g, b = decoded.rgb[8, 8].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_16_bit_gray_is_scaled_not_clipped():
    levels = np.array([[0, 257 * 100, 65535, 257 * 20]], dtype=np.uint16).repeat(3, axis=0)
    image = Image.fromarray(levels)
    assert image.mode.startswith("I;16")
    decoded = decode_image(to_bytes(image))
    np.testing.assert_array_equal(decoded.rgb[0, :, 0], [0, 100, 255, 20])
    assert (decoded.rgb[..., 0] == decoded.rgb[..., 2]).all()


def test_32_bit_int_gray_in_16_bit_range():
    levels = np.array([[0, 32896, 65535]], dtype=np.int32).repeat(2, axis=0)
    decoded = decode_image(to_bytes(Image.fromarray(levels, "I"), "TIFF"))
    np.testing.assert_array_equal(decoded.rgb[0, :, 1], [0, 128, 255])


def test_one_bit_and_gray():
    bits = Image.new("1", (5, 4), 1)
    bits.putpixel((0, 0), 0)
    decoded = decode_image(to_bytes(bits))
    assert tuple(decoded.rgb[0, 0]) == (0, 0, 0) and tuple(decoded.rgb[1, 1]) == (255, 255, 255)
    assert decode_image(to_bytes(Image.new("L", (3, 3), 77))).rgb.max() == 77


@pytest.mark.parametrize("size", [(1, 1), (2, 7), (7, 2), (5, 5)])
def test_tiny_images_decode(size):
    decoded = decode_image(to_bytes(Image.new("RGB", size, (1, 2, 3))))
    assert (decoded.width, decoded.height) == size


def test_resize_to_max_side_and_max_pixels():
    photo = Image.new("RGB", (400, 200), (9, 9, 9))
    assert decode_image(to_bytes(photo), max_side=100).rgb.shape == (50, 100, 3)
    assert decode_image(to_bytes(photo), max_pixels=20_000).rgb.shape == (100, 200, 3)
    assert decode_image(to_bytes(photo), max_side=1000).rgb.shape == (200, 400, 3)  # never enlarged
    assert fit_size(4000, 3000, max_side=1024) == (1024, 768)


def test_large_jpeg_is_decoded_at_reduced_scale():
    big = Image.new("RGB", (2000, 1000), (30, 60, 90))
    decoded = decode_image(to_bytes(big, "JPEG"), max_side=250)
    assert decoded.rgb.shape == (125, 250, 3)
    assert np.abs(decoded.rgb.astype(int) - [30, 60, 90]).max() <= 3


def png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (its pixel data is tiny)."""
    data = to_bytes(Image.new("L", (1, 1)))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    return data[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


@pytest.mark.parametrize("width, height", [(100_000, 100_000), (10_000, 6_000)])
def test_decompression_bomb_is_refused_from_the_header(width, height):
    with pytest.raises(ImageTooLarge) as caught:
        decode_image(png_with_size(width, height))
    assert caught.value.code == "image_too_large"  # its HTTP status, 413: test_handler_inference.py
    assert "50 megapixels" in str(caught.value)


def test_pixel_limit_is_configurable():
    data = to_bytes(Image.new("RGB", (100, 100)))
    with pytest.raises(ImageTooLarge):
        decode_image(data, max_input_pixels=5_000)
    assert decode_image(data, max_input_pixels=10_000).width == 100


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
                                  b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"])
def test_garbage_is_invalid_image(data):
    with pytest.raises(InvalidImage) as caught:
        decode_image(data)
    assert caught.value.code == "invalid_image"  # its HTTP status, 400: test_handler_inference.py


def test_truncated_jpeg_is_invalid_image():
    data = to_bytes(Image.effect_noise((64, 64), 40).convert("RGB"), "JPEG")
    with pytest.raises(InvalidImage):
        decode_image(data[: len(data) // 2])


def test_encode_formats_and_alpha():
    rgb = np.full((6, 8, 3), 120, np.uint8)
    alpha = np.full((6, 8), 128, np.uint8)
    assert Image.open(io.BytesIO(encode_image(rgb, alpha, "png"))).mode == "RGBA"
    assert Image.open(io.BytesIO(encode_image(rgb, alpha, "webp", 80))).mode == "RGBA"
    flat = Image.open(io.BytesIO(encode_image(rgb, alpha, "jpg")))
    assert flat.mode == "RGB" and abs(int(np.asarray(flat)[3, 3, 0]) - 187) <= 3  # half over white
    with pytest.raises(InvalidParameter):
        encode_image(rgb, None, "gif")
