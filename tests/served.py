"""What onnxruntime serves from an exported two-style network, against the network itself in PyTorch."""

import numpy as np
import onnx
import torch
from stylecore import Stylizer

from export.onnx_file import to_onnx


def export_and_serve(net, path) -> float:
    """Exports `net` (styles "a" and "b") to `path`; the largest difference between what the inference core
    paints in style "b" and what the network paints, on a random odd-sized picture (0..255)."""
    onnx.save(to_onnx(net, {"style_id": path.stem}, ["a", "b"]), path)
    rgb = np.random.default_rng(2).uniform(0, 255, (45, 61, 3)).astype(np.float32)
    served = Stylizer.from_file(path).for_style("b").stylize(rgb)
    with torch.no_grad():
        expected = net(torch.from_numpy(rgb).permute(2, 0, 1)[None], torch.tensor([1]))[0].permute(1, 2, 0).numpy()
    return float(np.abs(served - expected).max())
