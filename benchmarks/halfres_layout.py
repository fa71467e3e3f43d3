"""The next step for the speed goal, measured before it is built: the bundled network's layers that run
at full resolution (the 9x9 input and output convolutions, the last upsampling convolution and their instance
norms) computed at half resolution instead, on the 2x2 space-to-depth image (pixel_unshuffle / pixel_shuffle):
the same arithmetic per pixel, but on 4x the channels and a quarter of the positions, which onnxruntime's
convolutions use far better than 3- and 16-channel full-resolution tensors, and no full-resolution padding or
upsampled tensor at all.

    .venv/bin/python benchmarks/halfres_layout.py [--sizes 1024 512] [--threads 2]

Both graphs here have random weights and the same plain instance norm, so only the layout differs; the served
file (models/bundled.onnx) is timed beside them for scale. Exact weights for the half-resolution form follow
from the network's (a 9x9 kernel on 3 channels is a 5x5 kernel on the 12 space-to-depth channels; nearest 2x
upsampling then a 3x3 kernel is a 3x3 kernel at low resolution to 4 output phases); reflection padding at
full resolution becomes replicate padding at half resolution, exact but for the output convolution's outer
4 pixels. Not a test: compare rows of one run. Pause other heavy jobs first.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F
from torch import nn

W = 16  # the bundled network's width
SERVED = Path(__file__).resolve().parents[1] / "models" / "bundled.onnx"


def inorm(x, groups=1):
    """Instance norm over channels; groups>1: x holds `groups` phases of C channels (phase-major), pooled."""
    n, c, h, w = x.shape
    if groups == 1:
        mean = F.adaptive_avg_pool2d(x, 1)
        var = F.adaptive_avg_pool2d((x - mean).square(), 1)
    else:
        m = F.adaptive_avg_pool2d(x, 1).view(n, groups, c // groups, 1, 1).mean(1, keepdim=True)
        mean = m.expand(n, groups, c // groups, 1, 1).reshape(n, c, 1, 1)
        v = F.adaptive_avg_pool2d((x - mean).square(), 1).view(n, groups, c // groups, 1, 1).mean(1, keepdim=True)
        var = v.expand(n, groups, c // groups, 1, 1).reshape(n, c, 1, 1)
    return (x - mean) * torch.rsqrt(var + 1e-5)


def conv(cin, cout, k, s=1):
    return nn.Conv2d(cin, cout, k, s)


class Baseline(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.c3 = conv(3, W, 9), conv(W, 2 * W, 3, 2), conv(2 * W, 4 * W, 3, 2)
        self.res = nn.ModuleList([conv(4 * W, 4 * W, 3) for _ in range(10)])
        self.u1, self.u2, self.out = conv(4 * W, 2 * W, 3), conv(2 * W, W, 3), conv(W, 3, 9)

    def forward(self, x):
        full = x.shape[-2:]
        h1 = F.relu(inorm(self.c1(F.pad(x, (4,) * 4, mode="reflect"))))
        h2 = F.relu(inorm(self.c2(F.pad(h1, (1,) * 4, mode="reflect"))))
        half = h2.shape[-2:]
        h = F.relu(inorm(self.c3(F.pad(h2, (1,) * 4, mode="reflect"))))
        for i in range(0, 10, 2):
            r = F.relu(inorm(self.res[i](F.pad(h, (1,) * 4, mode="reflect"))))
            h = h + inorm(self.res[i + 1](F.pad(r, (1,) * 4, mode="reflect")))
        h = F.interpolate(h, size=half, mode="nearest")
        h = F.relu(inorm(self.u1(F.pad(h, (1,) * 4, mode="reflect"))))
        h = F.interpolate(h, size=full, mode="nearest")
        h = F.relu(inorm(self.u2(F.pad(h, (1,) * 4, mode="reflect"))))
        return self.out(F.pad(h, (4,) * 4, mode="reflect"))


class HalfRes(nn.Module):
    """The same network with its full-resolution layers computed at half resolution (space-to-depth)."""

    def __init__(self):
        super().__init__()
        self.c1 = conv(12, 4 * W, 5)  # 9x9 on 3 channels == 5x5 on the 2x2 space-to-depth image, 4 phases out
        self.c2 = conv(4 * W, 2 * W, 2)  # 3x3 stride 2 == 2x2 on the phases
        self.c3 = conv(2 * W, 4 * W, 3, 2)
        self.res = nn.ModuleList([conv(4 * W, 4 * W, 3) for _ in range(10)])
        self.u1 = conv(4 * W, 4 * 2 * W, 3)  # nearest 2x + 3x3 == 3x3 at low res to 4 phases
        self.u2 = conv(2 * W, 4 * W, 3)
        self.out = conv(4 * W, 12, 5)

    def forward(self, x):
        h1 = F.pixel_unshuffle(F.pad(x, (4,) * 4, mode="reflect"), 2)
        h1 = F.relu(inorm(self.c1(h1), groups=4))
        h2 = F.relu(inorm(self.c2(F.pad(h1, (1, 0, 1, 0), mode="replicate"))))
        h = F.relu(inorm(self.c3(F.pad(h2, (1,) * 4, mode="reflect"))))
        for i in range(0, 10, 2):
            r = F.relu(inorm(self.res[i](F.pad(h, (1,) * 4, mode="reflect"))))
            h = h + inorm(self.res[i + 1](F.pad(r, (1,) * 4, mode="reflect")))
        h = F.pixel_shuffle(self.u1(F.pad(h, (1,) * 4, mode="replicate")), 2)
        h = F.relu(inorm(h))
        h = F.relu(inorm(self.u2(F.pad(h, (1,) * 4, mode="replicate")), groups=4))
        return F.pixel_shuffle(self.out(F.pad(h, (2,) * 4, mode="replicate")), 2)


def export(net, path):
    x = torch.rand(1, 3, 256, 256) * 255
    torch.onnx.export(net.eval(), (x,), str(path), input_names=["input"], output_names=["output"], opset_version=17,
                      dynamo=False, dynamic_axes={"input": {2: "h", 3: "w"}})


def best_time(path, side: int, threads: int, runs: int = 5) -> float:
    """The fastest of `runs` timed runs on a random side x side image, after one warm-up."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, side, side)).astype(np.float32)
    session.run(None, {"input": x})
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, {"input": x})
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 512])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="artifacts/halfres", help="where the two ONNX files are written")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    graphs = {"full-resolution layout": out / "full.onnx", "half-resolution layout": out / "half.onnx"}
    export(Baseline(), graphs["full-resolution layout"])
    export(HalfRes(), graphs["half-resolution layout"])
    if SERVED.is_file():
        graphs["served file (models/bundled.onnx)"] = SERVED
    print(f"| {args.threads} threads | " + " | ".join(graphs) + " |")
    print("| --- |" + " ---: |" * len(graphs))
    for side in args.sizes:
        times = {name: best_time(path, side, args.threads) for name, path in graphs.items()}
        base = times["full-resolution layout"]
        print(f"| {side}x{side} | " + " | ".join(f"{t:.3f} s ({base / t:.2f}x)" for t in times.values()) + " |")


if __name__ == "__main__":
    main()
