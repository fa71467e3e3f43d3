"""The stylize command finds its models from any folder: MODELS_DIR, else the bundled models/ of this checkout,
and says where it looked when there are none. Run as the installed console script, from a folder outside the repo."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from stylecore import StyleRegistry
from stylecore.modelsdir import BUNDLED_MODELS_DIR, default_models_dir
from synthetic import synthetic_photo

ROOT = Path(__file__).resolve().parent.parent
STYLIZE = Path(sys.executable).parent / "stylize"


def bundled_style_ids() -> set:
    return {style["id"] for style in StyleRegistry.from_dir(ROOT / "models").list_styles()}


def run(args, cwd: Path, models_dir=None):
    env = {k: v for k, v in os.environ.items() if k not in ("MODELS_DIR", "MODELS_VARIANT")}
    if models_dir is not None:
        env["MODELS_DIR"] = str(models_dir)
    return subprocess.run([str(STYLIZE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def outside(tmp_path):
    """A working folder that is not the repository and has no models/ of its own."""
    assert not tmp_path.resolve().is_relative_to(ROOT) and not (tmp_path / "models").exists()
    return tmp_path


def test_bundled_models_are_the_default_from_any_folder(outside):
    assert BUNDLED_MODELS_DIR == ROOT / "models"
    done = run(["--list"], cwd=outside)
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert "great_wave" in listed and listed == bundled_style_ids()


def test_stylizes_with_the_bundled_models_from_outside_the_repo(outside):
    synthetic_photo(48, 36, seed=4).save(outside / "photo.png")
    done = run(["photo.png", "--style", "great_wave", "--max-size", "32", "--format", "png"], cwd=outside)
    assert done.returncode == 0, done.stderr
    assert max(Image.open(outside / "stylized" / "photo.great_wave.png").size) == 32


def test_models_dir_overrides_the_bundled_models(onnx_models_dir, outside):
    synthetic_photo(20, 16, seed=2).save(outside / "photo.png")
    listed = run(["--list"], cwd=outside, models_dir=onnx_models_dir)
    assert listed.returncode == 0, listed.stderr
    assert {line.split()[0] for line in listed.stdout.splitlines() if line.strip()} == {"test_a", "test_b"}
    done = run(["photo.png", "--style", "test_b", "--out", "out", "--format", "png"], cwd=outside,
               models_dir=onnx_models_dir)
    assert done.returncode == 0, done.stderr
    assert (outside / "out" / "photo.test_b.png").is_file()


def test_models_option_beats_models_dir(onnx_models_dir, outside):
    done = run(["--list", "--models", str(ROOT / "models")], cwd=outside, models_dir=onnx_models_dir)
    assert done.returncode == 0 and "great_wave" in done.stdout and "test_a" not in done.stdout


def test_no_models_names_the_folder_it_looked_in(outside):
    missing = outside / "nowhere"
    done = run(["--list"], cwd=outside, models_dir=missing)
    assert done.returncode == 2
    assert str(missing) in done.stderr and "MODELS_DIR" in done.stderr and "Traceback" not in done.stderr
    empty = outside / "empty"
    empty.mkdir()
    done = run(["--list"], cwd=outside, models_dir=empty)
    assert done.returncode == 2 and f"no models in {empty}" in done.stderr and "MODELS_DIR" in done.stderr
    done = run(["--list", "--models", "empty"], cwd=outside)
    assert done.returncode == 2 and f"no models in {empty}" in done.stderr and "--models" in done.stderr


def test_default_models_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("MODELS_DIR", raising=False)
    assert default_models_dir() == (ROOT / "models", "the bundled models")
    monkeypatch.setenv("MODELS_DIR", str(tmp_path))
    assert default_models_dir() == (tmp_path, "from MODELS_DIR")
