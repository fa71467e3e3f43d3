"""What the inference function needs per request size: peak memory and time, to size it in template.yaml.

    .venv/bin/python benchmarks/load_sizing.py [--models DIR] [--threads N]

Each size runs in a fresh process, as a new Lambda instance would: import the handler (init: registry and
sessions), then two POST /stylize events through `handler` (cold, then warm). Prints the init time, both
durations and the process's peak RSS (what Lambda's "Max Memory Used" reports).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [(512, 512, 1024), (1024, 1024, 1024), (1920, 1080, 2048), (2048, 2048, 2048), (4000, 3000, 2048)]

PROBE = r"""
import base64, importlib.util, io, json, resource, sys, time
import numpy as np
from PIL import Image
started = time.perf_counter()
sys.path[:0] = [sys.argv[1] + "/lambda_inference", sys.argv[1], sys.argv[1] + "/layers/common/python"]
spec = importlib.util.spec_from_file_location("app", sys.argv[1] + "/lambda_inference/app.py")
app = importlib.util.module_from_spec(spec); spec.loader.exec_module(app)
init_s = time.perf_counter() - started
width, height, max_size = map(int, sys.argv[2:5])
rng = np.random.default_rng(0)
y, x = np.mgrid[0:height, 0:width]
pixels = np.stack([x % 256, y % 256, (x * y) % 256], -1) + rng.integers(0, 8, (height, width, 3))
buffer = io.BytesIO(); Image.fromarray(pixels.clip(0, 255).astype("uint8")).save(buffer, "JPEG", quality=85)
style = app.REGISTRY.list_styles()[0]["id"]
body = json.dumps({"image": base64.b64encode(buffer.getvalue()).decode(), "style": style, "max_size": max_size})
event = {"version": "2.0", "rawPath": "/stylize", "body": body, "requestContext": {"http": {"method": "POST"}}}
runs = []
for _ in range(2):
    t = time.perf_counter()
    response = app.handler(event, None)
    runs.append(time.perf_counter() - t)
    assert response["statusCode"] == 200, response["body"][:300]
out = json.loads(response["body"])
print(json.dumps({"init_s": init_s, "cold_s": runs[0], "warm_s": runs[1], "out": [out["width"], out["height"]],
                  "request_mb": len(body) / 1e6, "response_mb": len(response["body"]) / 1e6,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--threads", type=int, help="onnxruntime threads (STYLECORE_THREADS); default: all CPUs")
    args = parser.parse_args()
    env = {"MODELS_DIR": str(args.models.resolve()), "PATH": "/usr/bin:/bin"}
    if args.threads:
        env["STYLECORE_THREADS"] = str(args.threads)
    print(f"models {args.models}, threads {args.threads or 'all'}")
    print("| photo | max_size | result | request MB | response MB | init s | cold s | warm s | peak RSS MB |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for width, height, max_size in SIZES:
        done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), str(width), str(height), str(max_size)],
                              capture_output=True, text=True, env=env)
        if done.returncode:
            print(f"| {width}x{height} | {max_size} | failed: {done.stderr.strip().splitlines()[-1]} |")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {width}x{height} | {max_size} | {r['out'][0]}x{r['out'][1]} | {r['request_mb']:.2f} | "
              f"{r['response_mb']:.2f} | {r['init_s']:.2f} | {r['cold_s']:.2f} | {r['warm_s']:.2f} | "
              f"{r['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
