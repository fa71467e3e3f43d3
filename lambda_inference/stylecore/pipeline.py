"""decode -> limits -> transformer network -> colour / strength -> encode: the path every image takes."""

import time
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidParameter
from .imaging import (
    DEFAULT_MAX_INPUT_PIXELS,
    OUTPUT_FORMATS,
    DecodedImage,
    decode_image,
    encode_image,
    normalize_format,
    to_uint8,
    transfer_luminance,
)
from .stylizer import Stylizer

MAX_SIZE_LIMIT = 8192  # the largest max_size (longest side) a caller may ask for


@dataclass
class StylizeResult:
    image: bytes
    width: int
    height: int
    format: str  # jpeg | png | webp
    mime_type: str
    timings: dict = field(default_factory=dict)  # decode_ms, inference_ms, encode_ms


def check_parameters(strength, max_size, output_format, quality, max_pixels=None) -> str:
    """Validate what a user sends; returns the normalised output format."""
    if isinstance(strength, bool) or not isinstance(strength, int | float) or not 0.0 <= strength <= 1.0:
        raise InvalidParameter(f"strength must be a number from 0 to 1, not {strength!r}")
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                 or not 1 <= max_size <= MAX_SIZE_LIMIT):
        raise InvalidParameter(f"max_size must be a whole number from 1 to {MAX_SIZE_LIMIT}, not {max_size!r}")
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, int)
                                   or max_pixels < 1):
        raise InvalidParameter(f"max_pixels must be a positive whole number, not {max_pixels!r}")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise InvalidParameter(f"quality must be a whole number from 1 to 100, not {quality!r}")
    return normalize_format(output_format)


def stylize_pixels(decoded: DecodedImage, stylizer: Stylizer, strength: float = 1.0,
                   preserve_color: bool = False) -> np.ndarray:
    """Decoded content -> stylized uint8 RGB of the same size."""
    if strength == 0.0:  # nothing of the style: the content as it is, without running the network
        return decoded.rgb.copy()
    stylized = stylizer.stylize(decoded.rgb)
    if preserve_color:
        stylized = transfer_luminance(stylized, decoded.rgb)
    if strength < 1.0:
        stylized = strength * np.clip(stylized, 0, 255) + (1.0 - strength) * decoded.rgb.astype(np.float32)
    return to_uint8(stylized)


def stylize_bytes(data: bytes, stylizer: Stylizer, *, strength: float = 1.0, preserve_color: bool = False,
                  max_size: int | None = 1024, output_format: str = "jpeg", quality: int = 90,
                  max_pixels: int | None = None, max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> StylizeResult:
    """Image file bytes in, stylized image file bytes out.

    max_size bounds the longest side and max_pixels the pixel count of what is stylized (the photo is
    scaled down to fit, never up; None: no bound). max_input_pixels refuses larger files outright,
    from their header. Raises StyleCoreError subclasses for anything the caller sent wrong.
    """
    name = check_parameters(strength, max_size, output_format, quality, max_pixels)
    started = time.perf_counter()
    decoded = decode_image(data, max_size, max_pixels, max_input_pixels)
    decoded_at = time.perf_counter()
    rgb = stylize_pixels(decoded, stylizer, float(strength), bool(preserve_color))
    inferred_at = time.perf_counter()
    image = encode_image(rgb, decoded.alpha, name, quality)
    done = time.perf_counter()
    timings = {"decode_ms": 1000 * (decoded_at - started), "inference_ms": 1000 * (inferred_at - decoded_at),
               "encode_ms": 1000 * (done - inferred_at)}
    return StylizeResult(image, rgb.shape[1], rgb.shape[0], name, OUTPUT_FORMATS[name][1],
                         {k: round(v, 1) for k, v in timings.items()})
