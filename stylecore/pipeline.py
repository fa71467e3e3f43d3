"""decode -> limits -> transformer network -> colour / strength -> encode: the path every image takes."""

import time
from dataclasses import dataclass, field

import numpy as np

from .brush import paint
from .faces import face_weight, load_cascade
from .imaging import (
    DEFAULT_MAX_INPUT_PIXELS,
    OUTPUT_FORMATS,
    DecodedImage,
    decode_image,
    encode_image_within,
    to_uint8,
    transfer_luminance,
)
from .masks import decode_mask
from .modelfiles import PIXEL_MAX, PIXEL_MIN
from .options import StylizeOptions
from .stylizer import Stylizer


@dataclass
class StylizeResult:
    image: bytes
    width: int
    height: int
    format: str  # jpeg | png | webp
    mime_type: str
    timings: dict = field(default_factory=dict)  # decode_ms, inference_ms, encode_ms
    quality: int | None = None  # the quality encoded at (lower than asked where max_bytes made it shrink); PNG: None


def stylize_pixels(decoded: DecodedImage, stylizer: Stylizer, strength: float = 1.0,
                   preserve_color: bool = False, *, brush: float | None = None,
                   mask: np.ndarray | None = None) -> np.ndarray:
    """Decoded content -> stylized uint8 RGB of the same size.

    brush sizes the strokes (stylecore.brush; None paints at the photo's own size, as video frames are);
    mask, (H, W) float 0..1, is the strength per pixel, multiplied with `strength`.
    """
    weight = strength if mask is None else strength * mask[..., None].astype(np.float32)
    if np.max(weight) == 0.0:  # nothing of the style anywhere: the content as it is, without running the network
        return decoded.rgb.copy()
    stylized = paint(decoded.rgb, stylizer, brush)
    if preserve_color:
        stylized = transfer_luminance(stylized, decoded.rgb)
    if mask is not None or strength < 1.0:
        stylized = np.clip(stylized, PIXEL_MIN, PIXEL_MAX)
        stylized = weight * stylized + (1.0 - weight) * decoded.rgb.astype(np.float32)
    return to_uint8(stylized)


def style_mask(decoded: DecodedImage, mask: bytes | None, protect_faces: bool,
               max_input_pixels: int) -> np.ndarray | None:
    """The per-pixel strength asked for: the mask file's, times the faces' protection; None for the same
    strength everywhere."""
    weight = None if mask is None else decode_mask(mask, decoded.width, decoded.height, max_input_pixels)
    if protect_faces:
        faces = face_weight(decoded.rgb)
        if faces is not None:
            weight = faces if weight is None else weight * faces
    return weight


def stylize_bytes(data: bytes, stylizer: Stylizer, options: StylizeOptions | None = None, *,
                  mask: bytes | None = None, max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS,
                  max_bytes: int | None = None, **fields) -> StylizeResult:
    """Image file bytes in, stylized image file bytes out.

    `options` (or its fields as keyword arguments: strength, preserve_color, max_size, output_format, quality,
    max_pixels, brush, protect_faces) say what to make, checked against the core's ranges. `mask` is a mask
    image file (stylecore.masks), decoded within the same limits as the photo. max_input_pixels refuses larger
    files outright, from their header; max_bytes bounds the result's file (see encode_image_within). Raises
    StyleCoreError subclasses for anything the caller sent wrong.
    """
    if options is not None and fields:
        raise TypeError("pass StylizeOptions or its fields, not both")
    options = (options or StylizeOptions(**fields)).checked()
    if options.protect_faces:
        load_cascade()  # a server without the detector says so before any work
    started = time.perf_counter()
    decoded = decode_image(data, options.max_size, options.max_pixels, max_input_pixels)
    weight = style_mask(decoded, mask, options.protect_faces, max_input_pixels)
    decoded_at = time.perf_counter()
    rgb = stylize_pixels(decoded, stylizer, options.strength, options.preserve_color, brush=options.brush,
                         mask=weight)
    inferred_at = time.perf_counter()
    image, quality = encode_image_within(rgb, decoded.alpha, options.output_format, options.quality, max_bytes)
    done = time.perf_counter()
    timings = {"decode_ms": 1000 * (decoded_at - started), "inference_ms": 1000 * (inferred_at - decoded_at),
               "encode_ms": 1000 * (done - inferred_at)}
    return StylizeResult(image, rgb.shape[1], rgb.shape[0], options.output_format,
                         OUTPUT_FORMATS[options.output_format][1], {k: round(v, 1) for k, v in timings.items()},
                         None if options.output_format == "png" else quality)
