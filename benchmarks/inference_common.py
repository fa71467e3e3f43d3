"""Shared by the inference benchmarks: the models under test, test photos, and running a measurement
in a fresh process (so that peak RSS belongs to one implementation and one size only)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
ARTIFACTS = ROOT / "artifacts" / "bench_models"
sys.path[:0] = [str(ROOT)]


def default_checkpoint() -> Path | None:
    """The trained Great Wave model when the lead's run has produced it, else None (random weights)."""
    run = ROOT / "runs" / "great_wave"
    if (run / "final.pth").is_file():
        return run / "final.pth"
    found = sorted((run / "checkpoints").glob("step_*.pth"))
    return found[-1] if found else None


def save_random_table1(path: Path):
    """The Table 1 network with seeded random weights (speed does not depend on them), saved as a checkpoint."""
    import torch

    from training.model import TransformerNet

    torch.manual_seed(0)
    net = TransformerNet().eval()
    torch.save({"model": net.state_dict()}, path)
    return net


def prepare_models(checkpoint: str | None, calibration=SHARED / "photos" / "train", count: int = 32) -> dict:
    """fp32, fp16 and int8 ONNX files (our exporter) plus the checkpoint, cached under artifacts/."""
    import torch

    from export.onnx_file import save, to_onnx
    from export.variants import INT8_DEFAULTS, to_fp16_weights, to_int8
    from training.model import load_transformer

    if checkpoint:
        key = hashlib.sha256(f"{Path(checkpoint).resolve()}:{Path(checkpoint).stat().st_mtime_ns}".encode())
        tag = "ckpt-" + key.hexdigest()[:10]
    else:
        tag = "random-seed0"
    folder = ARTIFACTS / tag
    paths = {"checkpoint": folder / "model.pth", "fp32": folder / "model.onnx", "fp16": folder / "model.fp16.onnx",
             "int8": folder / "model.int8.onnx"}
    if all(p.is_file() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    if checkpoint:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
        net = load_transformer(saved.get("model", saved))
        torch.save({"model": net.state_dict()}, paths["checkpoint"])
    else:
        net = save_random_table1(paths["checkpoint"])
    proto = to_onnx(net)
    save(proto, paths["fp32"])
    save(to_fp16_weights(proto), paths["fp16"])
    options = {**INT8_DEFAULTS, "calibration_count": count}
    save(to_int8(proto, calibration, **options), paths["int8"])
    (folder / "source.json").write_text(json.dumps({"checkpoint": str(checkpoint), "int8": options}, indent=2))
    return paths


SERVED_VARIANT = "halfres"  # the template's ModelsVariant default: the registry serves it where a network has it


def bundled_served_model() -> Path:
    """The file the product serves for the bundled multi-style network (models/, else models/campaign/), as
    the registry picks it under the template's default variant; where none is committed, the same network
    (half width, the catalog's nine styles) with random weights, exported fp32, cached."""
    from stylecore import StyleRegistry

    for folder in (ROOT / "models", ROOT / "models" / "campaign"):
        if (folder / "bundled.json").is_file():
            registry = StyleRegistry.from_dir(folder)
            registry.preferred_variant = SERVED_VARIANT
            return Path(registry.get(registry.list_styles()[0]["id"]).path)
    path = ARTIFACTS / "random-bundled" / "bundled.onnx"
    if not path.is_file():
        import torch

        from export.onnx_file import save, to_onnx
        from training.model import HALF_WIDTH, TransformerNet

        catalog = json.loads((ROOT / "scripts" / "bundled_styles.json").read_text())["styles"]
        torch.manual_seed(0)
        net = TransformerNet(num_styles=len(catalog), width=HALF_WIDTH).eval()
        path.parent.mkdir(parents=True, exist_ok=True)
        save(to_onnx(net, style_ids=[s["id"] for s in catalog]), path)
    return path


def mosaic_photo(width: int, height: int) -> np.ndarray:
    """Real photo content at its native scale: the val photos side by side, cropped to width x height."""
    from PIL import Image

    files = sorted((SHARED / "photos" / "val").glob("*.jpg"))
    tiles = [np.asarray(Image.open(f).convert("RGB").resize((480, 320))) for f in files]
    cols, rows = -(-width // 480), -(-height // 320)
    grid = [np.concatenate([tiles[(r * cols + c) % len(tiles)] for c in range(cols)], axis=1) for r in range(rows)]
    return np.ascontiguousarray(np.concatenate(grid, axis=0)[:height, :width])


def run_child(code: str, env: dict | None = None, timeout: int = 1800) -> dict:
    """Run Python code in a fresh interpreter; it prints one JSON line last. Adds its peak RSS in MB."""
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a big parent inherits its peak.
    wrapper = code + (
        "\nimport json as _j, re as _re\n"
        "_hwm = int(_re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "print(_j.dumps({**RESULT, 'peak_rss_mb': _hwm / 1024}))\n")
    done = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    import platform

    flags = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name"))
        have = set(next(line for line in cpuinfo.splitlines() if line.startswith("flags")).split())
        flags = " ".join(f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile") if f in have)
    except (OSError, StopIteration):
        model = platform.processor()
    import onnxruntime

    return (f"{model}; {len(os.sched_getaffinity(0))} CPUs usable; {flags}; Python {platform.python_version()}, "
            f"onnxruntime {onnxruntime.__version__}")
