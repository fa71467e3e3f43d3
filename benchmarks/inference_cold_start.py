"""Cold start: a fresh Python process that imports, loads a model and returns its first 512x512 result
(JPEG bytes in, JPEG bytes out), as a new Lambda execution environment does. Target: 1.0 s.

    .venv/bin/python benchmarks/inference_cold_start.py [--checkpoint ...] [--repeats 5]

The total is measured from outside (process start to exit); the breakdown from inside.
"""

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inference_common import ROOT, default_checkpoint, machine, mosaic_photo, prepare_models

ONNX_CHILD = """
import time
t0 = time.perf_counter()
import stylecore
t1 = time.perf_counter()
stylizer = stylecore.Stylizer.from_file({path!r})
t2 = time.perf_counter()
result = stylecore.stylize_bytes(open({photo!r}, "rb").read(), stylizer, max_size=512)
t3 = time.perf_counter()
print(f"{{t1 - t0:.3f}} {{t2 - t1:.3f}} {{t3 - t2:.3f}} {{result.width}}x{{result.height}}")
"""

TORCH_CHILD = """
import time
t0 = time.perf_counter()
import io, numpy as np, torch
from PIL import Image
from training.model import load_transformer
t1 = time.perf_counter()
net = load_transformer(torch.load({path!r}, map_location="cpu", weights_only=False)["model"])
t2 = time.perf_counter()
image = np.asarray(Image.open({photo!r}).convert("RGB"), np.float32)
with torch.no_grad():
    out = net(torch.from_numpy(image).permute(2, 0, 1)[None])[0].clamp(0, 255)
buffer = io.BytesIO()
Image.fromarray(out.permute(1, 2, 0).round().byte().numpy()).save(buffer, "JPEG", quality=90)
t3 = time.perf_counter()
print(f"{{t1 - t0:.3f}} {{t2 - t1:.3f}} {{t3 - t2:.3f}} {{out.shape[2]}}x{{out.shape[1]}}")
"""


def cold_run(code: str) -> tuple:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    total = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    imports, load, first, size = done.stdout.split()
    return total, float(imports), float(load), float(first), size


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="default: runs/great_wave's latest, else random weights")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    checkpoint = args.checkpoint or default_checkpoint()
    paths = prepare_models(checkpoint)
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.jpg"
        buffer = io.BytesIO()
        Image.fromarray(mosaic_photo(512, 512)).save(buffer, "JPEG", quality=90)
        photo.write_bytes(buffer.getvalue())
        print(f"machine: {machine()}")
        print(f"weights: {checkpoint or 'random (seed 0)'}; 512x512 JPEG in, JPEG out; median of {args.repeats} "
              "fresh processes")
        print(f"{'runtime':<14} {'total s':>8} {'imports':>8} {'load':>6} {'first result':>12}")
        cases = [("onnx fp32", ONNX_CHILD, paths["fp32"]), ("onnx int8", ONNX_CHILD, paths["int8"]),
                 ("pytorch", TORCH_CHILD, paths["checkpoint"])]
        for name, template, path in cases:
            runs = [cold_run(template.format(path=str(path), photo=str(photo))) for _ in range(args.repeats)]
            med = [statistics.median(r[i] for r in runs) for i in range(4)]
            print(f"{name:<14} {med[0]:>8.3f} {med[1]:>8.3f} {med[2]:>6.3f} {med[3]:>12.3f}", flush=True)
    print("total: process start to exit, interpreter start-up included; the parts are timed inside the process.")


if __name__ == "__main__":
    main()
