"""Does the ONNX file, run the way it is served (through stylecore), give what PyTorch gives?"""

import math

import numpy as np
import torch
from stylecore import Stylizer
from stylecore.modelfiles import PIXEL_MAX, PIXEL_MIN
from stylecore.stylizer import PAD_TO_SIDE

from training.model import TransformerNet

MAX_ABS_ERROR = 0.5  # on the 0..255 scale
MIN_PSNR_DB = 60.0
# Square, odd, tall, wide, the network's smallest, and tiny ones that stylecore pads (1 px wide included).
DEFAULT_SIZES = ((256, 256), (97, 131), (333, 180), (64, 250), (5, 5), (2, 7), (3, 1))


class ParityError(ValueError):
    pass


def psnr(a: np.ndarray, b: np.ndarray, peak: float = PIXEL_MAX) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def test_photo(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth shapes plus noise, (H, W, 3) float32 0..255: harder than a flat image, like a photo."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([np.sin(x / (3 + 9 * rng.random()) + 6 * rng.random()),
                     np.cos(y / (3 + 9 * rng.random()) + 6 * rng.random()),
                     np.sin((x + y) / (4 + 9 * rng.random()))], axis=-1)
    return np.clip(128 + 90 * base + rng.normal(0, 20, base.shape), PIXEL_MIN, PIXEL_MAX).astype(np.float32)


@torch.no_grad()
def reference(net: TransformerNet, rgb: np.ndarray, style_weights=None) -> np.ndarray:
    """PyTorch's result (a multi-style network: for the mix `style_weights`); images under 16 px a side are
    padded the way stylecore pads them."""
    height, width = rgb.shape[:2]
    padded = np.pad(rgb, ((0, max(0, PAD_TO_SIDE - height)), (0, max(0, PAD_TO_SIDE - width)), (0, 0)),
                    mode="symmetric")
    styles = None if style_weights is None else torch.tensor(np.asarray(style_weights, np.float32))[None]
    out = net(torch.from_numpy(np.ascontiguousarray(padded.transpose(2, 0, 1)))[None], styles)[0]
    return out.numpy().transpose(1, 2, 0)[:height, :width]


def check_parity(net: TransformerNet, onnx_path, sizes=DEFAULT_SIZES, max_abs: float = MAX_ABS_ERROR,
                 min_psnr: float = MIN_PSNR_DB, stylizer: Stylizer | None = None, style_weights=None) -> list:
    """One row per size (max abs error and PSNR on the clamped 0..255 output); raises ParityError on a miss.
    A multi-style network is checked for the mix `style_weights` (one-hot: one style)."""
    net = net.float().eval()
    stylizer = stylizer or Stylizer.from_file(onnx_path)
    if style_weights is not None:
        stylizer = stylizer.with_style_weights(style_weights)
    rows = []
    for i, (height, width) in enumerate(sizes):
        photo = test_photo(height, width, seed=1000 + i)
        expected = np.clip(reference(net, photo, style_weights), PIXEL_MIN, PIXEL_MAX)
        got = np.clip(stylizer.stylize_whole(photo), PIXEL_MIN, PIXEL_MAX)
        quality = psnr(expected, got)
        rows.append({"size": f"{width}x{height}", "max_abs_error": float(np.max(np.abs(expected - got))),
                     "psnr_db": None if math.isinf(quality) else round(quality, 2)})  # None: identical
    if style_weights is not None:
        mix = ",".join(f"{w:g}" for w in style_weights)
        rows = [{**row, "style_weights": mix} for row in rows]
    failed = [r for r in rows if r["max_abs_error"] > max_abs or (r["psnr_db"] or math.inf) < min_psnr]
    if failed:
        raise ParityError("ONNX and PyTorch disagree: " + "; ".join(
            f"{r['size']}: max abs error {r['max_abs_error']:.4g} (limit {max_abs}), "
            f"PSNR {r['psnr_db']} dB (limit {min_psnr})" for r in failed))
    return rows

