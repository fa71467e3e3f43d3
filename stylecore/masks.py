"""Where the style goes: a mask (per-pixel strength) read from an image file, and faces kept closer to the photo.

A mask is a grayscale image: white is the full style, black the photo, gray between; soft edges are kept. It is
stretched to the photo's size (send it with the photo's aspect ratio) and multiplied with `strength`. Its bytes
come from strangers as a photo's do, so it is decoded by imaging.decode_image with the same limits. A 1x1 mask
is allowed: it is one strength for the whole photo. A mask with transparent pixels is refused: whether a
transparent pixel means "no style" or "not painted" is a guess, and a mask that carries its shape only in its
alpha channel would otherwise silently be all white (an opaque alpha channel is ignored).
"""

import numpy as np
from PIL import Image

from .errors import ImageTooLarge, InvalidImage
from .imaging import DEFAULT_MAX_INPUT_PIXELS, LUMA, decode_image


def decode_mask(data: bytes, width: int, height: int, max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> np.ndarray:
    """Mask file bytes -> (height, width) float32 0..1. InvalidImage or ImageTooLarge, each saying it is the mask."""
    try:
        decoded = decode_image(data, max(width, height), None, max_input_pixels)
    except (InvalidImage, ImageTooLarge) as error:
        raise type(error)(f"the mask: {error.message}") from error
    if decoded.alpha is not None and decoded.alpha.min() < 255:
        raise InvalidImage("the mask has transparent pixels; send it as an opaque grayscale image: white where the "
                           "style goes, black where the photo stays")
    gray = decoded.rgb.astype(np.float32) @ np.asarray(LUMA, np.float32)
    if gray.shape != (height, width):  # bilinear: a soft edge stays soft, a hard one stays within a pixel
        gray = np.asarray(Image.fromarray(gray, "F").resize((width, height), Image.Resampling.BILINEAR))
    return np.clip(gray / 255.0, 0.0, 1.0)
