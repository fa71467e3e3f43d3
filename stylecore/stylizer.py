"""One style's ONNX session, and running the transformer network on an image of any size.

The model interface is in `modelfiles` (what `export/` writes): input (N, 3, H, W) float32 RGB 0..255,
output of the same shape, unclamped, and the instance-norm statistics out and back in, which is what makes
tiles match.
"""

import copy
import json
import logging
import math
import os
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .modelfiles import (
    INPUT,
    NORM_STATS_MIX_INPUT,
    NORM_STATS_OUTPUT,
    NORM_STATS_OVERRIDE_INPUT,
    OUTPUT,
    STYLE_WEIGHTS_INPUT,
    STYLES_METADATA_KEY,
    parse_model_filename,
)

log = logging.getLogger(__name__)
# Our models feed instance-norm statistics through inputs that have defaults, and onnxruntime warns
# about every such input on every load; errors still show.
ort.set_default_logger_severity(3)

# Smaller images are mirrored out to this size first, then cropped back. 5 px would run, but then the
# deepest feature maps are 2x2 and some channels are almost constant: instance norm divides by a
# variance below its epsilon, and the result is rounding noise (PyTorch and onnxruntime then differ
# by tens of levels). At 16 px every implementation agrees to within 0.01.
PAD_TO_SIDE = 16
# The most pixels run in one piece (1920x1080, 2.07 MP, fits): larger images are stylized in tiles, and the
# statistics for the tiles are measured on crops of at most this size. The API holds its results to it.
WHOLE_IMAGE_PIXELS = 2_100_000
DEFAULT_TILE_THRESHOLD = WHOLE_IMAGE_PIXELS
DEFAULT_TILE_SIZE = 1280  # the core of each tile, a multiple of 4 so the stride-2 convs stay on the global grid
# Each tile sees this much of its neighbours on every side and drops it: more than the network's
# receptive-field radius (54 px), so every kept pixel is computed exactly as in the whole image.
DEFAULT_TILE_MARGIN = 64
# The global instance-norm statistics of a tiled image are pooled over full-resolution crops of at most
# this size (one extra pass; see global_norm_stats).
DEFAULT_STATS_CROP_PIXELS = WHOLE_IMAGE_PIXELS


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota (containers)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, count)


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def session_options(threads: int | None = None, memory_arena: bool | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or int(os.environ.get("STYLECORE_THREADS", 0)) or available_cpus()
    options.inter_op_num_threads = 1
    # The arena keeps every buffer it ever allocated (about 1.35 GB per megapixel, growing across image
    # sizes): too much for a Lambda. Off costs some latency; STYLECORE_MEMORY_ARENA=1 turns it back on.
    options.enable_cpu_mem_arena = env_flag("STYLECORE_MEMORY_ARENA", False) if memory_arena is None else memory_arena
    options.log_severity_level = 3
    return options


class Stylizer:
    """A loaded style: call `stylize(rgb)` with (H, W, 3) pixels 0..255, get float (H, W, 3) back."""

    def __init__(self, session: ort.InferenceSession, style_id: str = "", card: dict | None = None,
                 path: str | None = None):
        self.session = session
        self.style_id = style_id
        self.card = card or {}
        self.path = path
        inputs = {i.name: i for i in session.get_inputs()}
        outputs = {o.name for o in session.get_outputs()}
        self.input_name = INPUT if INPUT in inputs else session.get_inputs()[0].name
        self.output_name = OUTPUT if OUTPUT in outputs else session.get_outputs()[0].name
        overridable = {i.name for i in session.get_overridable_initializers()} | set(inputs)
        self.has_norm_stats = {NORM_STATS_OVERRIDE_INPUT, NORM_STATS_MIX_INPUT} <= overridable \
            and NORM_STATS_OUTPUT in outputs
        self.tile_threshold = DEFAULT_TILE_THRESHOLD
        self.tile_size = DEFAULT_TILE_SIZE
        self.tile_margin = DEFAULT_TILE_MARGIN
        self.stats_crop_pixels = DEFAULT_STATS_CROP_PIXELS
        # A multi-style network: its style ids in index order, and the mix of them this stylizer runs.
        metadata = session.get_modelmeta().custom_metadata_map
        self.style_ids = json.loads(metadata[STYLES_METADATA_KEY]) if STYLE_WEIGHTS_INPUT in overridable \
            and STYLES_METADATA_KEY in metadata else []
        self.style_weights = None  # None: the file's default (its first style)

    @classmethod
    def from_file(cls, path, style_id: str | None = None, card: dict | None = None, threads: int | None = None,
                  memory_arena: bool | None = None) -> "Stylizer":
        path = Path(path)
        started = time.perf_counter()
        try:
            session = ort.InferenceSession(str(path), session_options(threads, memory_arena),
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:  # a broken model file is our fault, not the user's: not a StyleCoreError
            raise RuntimeError(f"cannot load the ONNX model {path}: {exc}") from exc
        parsed = parse_model_filename(path.name)
        stylizer = cls(session, style_id or (parsed[0] if parsed else path.stem), card, str(path))
        log.info("loaded %s in %.0f ms", path, 1000 * (time.perf_counter() - started))
        return stylizer

    # ------------------------------------------------------------------------------- styles

    def with_style_weights(self, weights) -> "Stylizer":
        """This network running a mix of its styles ((S,), convex: one-hot is one style), sharing the session."""
        if not self.style_ids:
            raise ValueError(f"{self.path}: not a multi-style network")
        weights = np.asarray(weights, np.float32)
        if weights.shape != (len(self.style_ids),):
            raise ValueError(f"{len(self.style_ids)} style weights needed, got shape {weights.shape}")
        view = copy.copy(self)
        view.style_weights = weights
        return view

    def for_style(self, style_id: str) -> "Stylizer":
        weights = np.zeros(len(self.style_ids), np.float32)
        weights[self.style_ids.index(style_id)] = 1.0
        view = self.with_style_weights(weights)
        view.style_id = style_id
        return view

    # --------------------------------------------------------------------------------- running

    def run(self, batch: np.ndarray, norm_stats: np.ndarray | None = None, want_stats: bool = False):
        """(N, 3, H, W) float32 0..255 -> (N, 3, H, W), optionally with the (N, 2, C) statistics used."""
        feeds = {self.input_name: np.ascontiguousarray(batch, dtype=np.float32)}
        if norm_stats is not None:
            feeds[NORM_STATS_OVERRIDE_INPUT] = np.ascontiguousarray(norm_stats, dtype=np.float32)
            feeds[NORM_STATS_MIX_INPUT] = np.array(1.0, dtype=np.float32)
        if self.style_weights is not None:
            feeds[STYLE_WEIGHTS_INPUT] = self.style_weights
        names = [self.output_name] + ([NORM_STATS_OUTPUT] if want_stats else [])
        results = self.session.run(names, feeds)
        return (results[0], results[1]) if want_stats else results[0]

    def stylize_whole(self, rgb: np.ndarray, norm_stats: np.ndarray | None = None) -> np.ndarray:
        """The whole image in one run. Images under 16 pixels a side are padded, then cropped back."""
        height, width = rgb.shape[:2]
        pad_y, pad_x = max(0, PAD_TO_SIDE - height), max(0, PAD_TO_SIDE - width)
        if pad_y or pad_x:  # mirror the tiny image outwards, keep the original at the top left
            rgb = np.pad(rgb, ((0, pad_y), (0, pad_x), (0, 0)), mode="symmetric")
        batch = rgb.astype(np.float32).transpose(2, 0, 1)[None]
        out = self.run(batch, norm_stats)[0].transpose(1, 2, 0)
        return out[:height, :width]

    def stylize(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W, 3) 0..255 -> (H, W, 3) float32 0..255 (unclamped). Large images go through tiles."""
        height, width = rgb.shape[:2]
        if height * width > self.tile_threshold and self.has_norm_stats:
            return self.stylize_tiled(rgb)
        return self.stylize_whole(rgb)

    # ---------------------------------------------------------------------------------- tiling

    def global_norm_stats(self, rgb: np.ndarray) -> np.ndarray:
        """Every instance-norm layer's (2, C) statistics for the whole image, without running it whole.

        The image is cut into a grid of full-resolution crops, each run once, and their per-channel
        means and variances are pooled (weighted by area) as if over one image. Each crop normalises
        its own early layers, so deeper statistics are slightly off; with crops of ~2 MP the tiled
        result stays within about 45-50 dB PSNR of the whole-image one (docs/benchmarks.md).
        """
        height, width = rgb.shape[:2]
        rows, cols = crop_grid(height, width, self.stats_crop_pixels)
        sums, area = 0.0, 0
        for y0, y1 in zip(rows[:-1], rows[1:], strict=True):
            for x0, x1 in zip(cols[:-1], cols[1:], strict=True):
                crop = rgb[y0:y1, x0:x1].astype(np.float32).transpose(2, 0, 1)[None]
                mean, var = self.run(crop, want_stats=True)[1][0].astype(np.float64)
                n = (y1 - y0) * (x1 - x0)
                sums = sums + n * np.stack([mean, var + mean * mean])  # pool E[x] and E[x^2]
                area += n
        mean, square = sums / area
        return np.stack([mean, np.maximum(square - mean * mean, 0.0)]).astype(np.float32)

    def stylize_tiled(self, rgb: np.ndarray, tile_size: int | None = None, margin: int | None = None,
                      norm_stats: np.ndarray | None = None) -> np.ndarray:
        """Overlapping tiles sharing the global instance-norm statistics, so memory stays bounded.

        Each tile is run with `margin` pixels of context on every side, and only its core is kept.
        With the same statistics everywhere and a margin wider than the receptive field, the kept
        pixels are the ones the whole image would give: there is no seam to blend away.
        """
        if not self.has_norm_stats:
            raise RuntimeError(f"{self.path}: this model does not expose its instance-norm statistics "
                               "(export it with our exporter to stylize in tiles)")
        tile_size = tile_size or self.tile_size
        margin = self.tile_margin if margin is None else margin
        if tile_size % 4 or margin % 4:
            raise ValueError("tile size and margin must be multiples of 4 (the network's total stride)")
        if norm_stats is None:
            norm_stats = self.global_norm_stats(rgb)
        height, width = rgb.shape[:2]
        out = np.empty((height, width, 3), np.float32)
        for top in range(0, height, tile_size):
            for left in range(0, width, tile_size):
                bottom, right = min(top + tile_size, height), min(left + tile_size, width)
                y0, x0 = max(0, top - margin), max(0, left - margin)
                y1, x1 = min(height, bottom + margin), min(width, right + margin)
                styled = self.stylize_whole(rgb[y0:y1, x0:x1], norm_stats)
                out[top:bottom, left:right] = styled[top - y0:bottom - y0, left - x0:right - x0]
        return out


def crop_grid(height: int, width: int, max_pixels: int) -> tuple:
    """Row and column edges of the fewest near-equal crops of at most max_pixels each."""
    count = max(1, math.ceil(height * width / max_pixels))
    rows = max(1, round(math.sqrt(count * height / width)))
    cols = max(1, math.ceil(count / rows))
    while math.ceil(height / rows) * math.ceil(width / cols) > max_pixels:
        rows, cols = (rows + 1, cols) if height / rows >= width / cols else (rows, cols + 1)
    edges = lambda size, n: [round(i * size / n) for i in range(n + 1)]
    return edges(height, rows), edges(width, cols)
