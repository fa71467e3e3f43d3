"""Brush size: a photo painted at the working size of its brush, and the painting brought back to full size sharp.

A style network paints strokes of a fixed size in pixels, so a 12 MP print painted at full size has strokes
four times smaller, relative to the picture, than its 1024 px preview. `paint` paints the photo at the long
side the brush asks for (options.working_side) and brings the painting up to the photo's size.

Bringing it up naively (bicubic) blurs it: the photo's fine edges, which the style keeps where it follows the
photo, are gone. `upsample_painting` puts them back with a guided-filter detail transfer (He et al., Guided
Image Filtering, 2010/2013; the fast variant, which fits its linear model at low resolution): around every
pixel of the painting, a local linear model `painting = a * photo luminance + b` says how strongly the style
follows the photo there; the photo's detail that the downscale removed (the full-size luminance minus its
upsampled small copy) is added back with that local gain `a`. Where the style paints over the photo (a ~ 0)
nothing is added; where it follows the photo's edges they come back at full resolution. Downscaled again the
result is the painting: the added detail is all above the painting's frequencies.
"""

import numpy as np
from PIL import Image

from .imaging import LUMA, fit_size
from .options import working_side

# The guided filter's window radius at the painting's size (a 5x5 window: about a stroke of the bundled
# networks), and its regulariser in luminance levels squared: flat patches, whose luminance varies by less
# than about GUIDE_EPSILON ** 0.5 levels, get no gain, so the photo's noise and JPEG blocks are not amplified.
GUIDE_RADIUS = 2
GUIDE_EPSILON = 100.0
GAIN_LIMIT = 2.0  # |a| at most: a painting that inverts or doubles the photo's contrast locally is rare, noise is not


def painting_size(width: int, height: int, brush: float | None) -> tuple[int, int]:
    """The (width, height) a photo of this size is painted at; the photo's own size for brush None."""
    if brush is None:
        return width, height
    return fit_size(width, height, working_side(brush))


def paint(rgb: np.ndarray, stylizer, brush: float | None) -> np.ndarray:
    """(H, W, 3) uint8 photo -> (H, W, 3) float32 painting, its strokes sized by `brush` (None: at full size)."""
    height, width = rgb.shape[:2]
    size = painting_size(width, height, brush)
    if size == (width, height):
        return stylizer.stylize(rgb)
    small = resize_rgb(rgb, size)
    return upsample_painting(stylizer.stylize(small), small, rgb)


def resize_rgb(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 RGB scaled to (width, height), as decoding scales photos down (Lanczos)."""
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0))


def resize_plane(plane: np.ndarray, size: tuple[int, int], resample=Image.Resampling.BICUBIC) -> np.ndarray:
    """One float32 plane scaled to (width, height), in float (no rounding to 8 bits)."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(plane, np.float32), "F").resize(size, resample))


def upsample_naive(painting: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic upsampling of a (h, w, 3) painting to (width, height): what upsample_painting improves on."""
    return np.stack([resize_plane(painting[..., c], size) for c in range(3)], axis=-1)


def box_mean(plane: np.ndarray, radius: int) -> np.ndarray:
    """The mean over a (2r+1)^2 window around every pixel (the window shrinks at the borders), in O(pixels)."""
    def along(values: np.ndarray, axis: int) -> np.ndarray:
        length = values.shape[axis]
        summed = np.cumsum(values, axis=axis, dtype=np.float64)
        summed = np.concatenate([np.zeros_like(np.take(summed, [0], axis=axis)), summed], axis=axis)
        high = np.minimum(np.arange(length) + radius + 1, length)
        low = np.maximum(np.arange(length) - radius, 0)
        shape = [1, 1]
        shape[axis] = length
        return (np.take(summed, high, axis=axis) - np.take(summed, low, axis=axis)) / (high - low).reshape(shape)
    return along(along(plane, 0), 1).astype(np.float32)


def guided_gain(guide: np.ndarray, painting: np.ndarray) -> np.ndarray:
    """The guided filter's per-pixel (h, w, 3) gain `a` of each painting channel on the (h, w) guide, smoothed
    as the filter's output uses it (the mean of the models covering each pixel)."""
    mean_guide = box_mean(guide, GUIDE_RADIUS)
    variance = box_mean(guide * guide, GUIDE_RADIUS) - mean_guide * mean_guide
    gains = []
    for channel in range(3):
        values = painting[..., channel]
        covariance = box_mean(guide * values, GUIDE_RADIUS) - mean_guide * box_mean(values, GUIDE_RADIUS)
        gain = np.clip(covariance / (variance + GUIDE_EPSILON), -GAIN_LIMIT, GAIN_LIMIT)
        gains.append(box_mean(gain, GUIDE_RADIUS))
    return np.stack(gains, axis=-1)


def upsample_painting(painting: np.ndarray, small_photo: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """A (h, w, 3) float painting of `small_photo` (h, w, 3 uint8) brought to the size of `photo` (H, W, 3 uint8):
    bicubic, plus the photo's lost detail times the local guided gain (the module's docstring)."""
    height, width = photo.shape[:2]
    size = (width, height)
    guide = small_photo.astype(np.float32) @ np.asarray(LUMA, np.float32)
    gain = guided_gain(guide, painting)
    detail = photo.astype(np.float32) @ np.asarray(LUMA, np.float32)
    detail -= resize_plane(guide, size)  # what the full-size luminance has that the small one cannot
    out = np.empty((height, width, 3), np.float32)
    for channel in range(3):  # a channel at a time, so that a 12 MP photo holds few full-size planes at once
        out[..., channel] = resize_plane(painting[..., channel], size)
        out[..., channel] += resize_plane(gain[..., channel], size, Image.Resampling.BILINEAR) * detail
    return out
