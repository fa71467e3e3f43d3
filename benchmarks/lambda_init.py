"""The inference Lambda's init and memory: one onnxruntime session per style (six single-style networks)
against one session per network file (the bundled multi-style network), in the same run.

    .venv/bin/python benchmarks/lambda_init.py [--repeats 3]

Each run is a fresh process, as a new execution environment is: import stylecore, build the registry,
load every served session (what the handler does at init), then stylize a 512x512 JPEG with the first
style. Printed: init seconds, first-result seconds, the total from process start, and peak RSS.
"before": the six single-style int8 models of models/ (when they are there); "after": the file served for
the bundled network (models/, models/campaign/, or the same network with random weights).
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inference_common import ROOT, SERVED_VARIANT, bundled_served_model, machine, mosaic_photo

CHILD = """
import time
t0 = time.perf_counter()
import json, re, stylecore
registry = stylecore.StyleRegistry.from_dir({models!r})
registry.preferred_variant = {variant!r}
registry.warm()
t1 = time.perf_counter()
first = registry.list_styles()[0]["id"]
result = stylecore.stylize_bytes(open({photo!r}, "rb").read(), registry.get(first), max_size=512)
t2 = time.perf_counter()
hwm = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({{"init_s": t1 - t0, "first_s": t2 - t1, "styles": len(registry.list_styles()),
                  "peak_rss_mb": hwm / 1024}}))
"""


def bundled_folder(tmp: Path) -> Path:
    """A models folder with only the bundled network's served file and a card listing its styles."""
    import onnx

    model = bundled_served_model()
    folder = tmp / "bundled"
    folder.mkdir()
    shutil.copy(model, folder / model.name)
    card = model.with_name("bundled.json")
    if card.is_file():
        shutil.copy(card, folder / "bundled.json")
    else:
        meta = {p.key: p.value for p in onnx.load(model, load_external_data=False).metadata_props}
        ids = json.loads(meta["styles"])
        (folder / "bundled.json").write_text(json.dumps({"styles": [{"id": s, "index": i} for i, s in
                                                                    enumerate(ids)]}))
    return folder


def run(models: Path, photo: Path) -> dict:
    started = time.perf_counter()
    code = CHILD.format(models=str(models), photo=str(photo), variant=SERVED_VARIANT)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return {**json.loads(done.stdout.splitlines()[-1]), "total_s": time.perf_counter() - started}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photo = tmp / "photo.jpg"
        Image.fromarray(mosaic_photo(1024, 1024)).save(photo, quality=90)
        setups = {"after: one network file": bundled_folder(tmp)}
        if list((ROOT / "models").glob("*.int8.onnx")) and not (ROOT / "models" / "bundled.json").is_file():
            setups = {"before: a session per style": ROOT / "models", **setups}
        print(f"machine: {machine()}")
        print(f"{'setup':<30} {'styles':>6} {'init s':>7} {'first 512 s':>11} {'total s':>8} {'peak RSS MB':>11}")
        for label, folder in setups.items():
            rows = [run(folder, photo) for _ in range(args.repeats)]
            med = {k: statistics.median(r[k] for r in rows) for k in ("init_s", "first_s", "total_s", "peak_rss_mb")}
            print(f"{label:<30} {rows[0]['styles']:>6} {med['init_s']:>7.3f} {med['first_s']:>11.3f} "
                  f"{med['total_s']:>8.3f} {med['peak_rss_mb']:>11.0f}", flush=True)
    print("medians of fresh processes; total: from process start to the first 512x512 result, imports included.")


if __name__ == "__main__":
    main()
