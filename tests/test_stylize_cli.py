"""The stylize command: a folder with a corrupt file in it, options, and clear failures."""

import subprocess
import sys
from pathlib import Path

from PIL import Image
from stylecore.cli import main
from synthetic import synthetic_photo


def test_folder_with_one_corrupt_file(onnx_models_dir, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        synthetic_photo(40 + i, 30, seed=i).save(photos / f"photo_{i}.jpg")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    (photos / "notes.txt").write_text("not an image, not even tried")
    out = tmp_path / "out"
    code = main([str(photos), "--style", "test_a", "--models", str(onnx_models_dir), "--out", str(out),
                 "--format", "png", "--max-size", "32", "--strength", "0.7", "--preserve-color"])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.jpg" in captured.err and "failed" in captured.err
    assert "stylized 3 of 4" in captured.out
    results = sorted(p.name for p in out.iterdir())
    assert results == [f"photo_{i}.test_a.png" for i in range(3)]
    assert max(Image.open(out / results[0]).size) == 32


def test_all_good_exits_zero_and_keeps_names_apart(onnx_models_dir, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        synthetic_photo(20, 20, seed=1).save(tmp_path / folder / "same.png")
    code = main([str(tmp_path / "a" / "same.png"), str(tmp_path / "b" / "same.png"), "--style", "test_b",
                 "--models", str(onnx_models_dir), "--out", str(tmp_path / "out"), "--format", "webp"])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["same.test_b-2.webp", "same.test_b.webp"]


def test_unknown_style_and_bad_options(onnx_models_dir, tmp_path, capsys):
    image = tmp_path / "x.png"
    synthetic_photo(10, 10, seed=0).save(image)
    assert main([str(image), "--style", "nope", "--models", str(onnx_models_dir)]) == 2
    assert "unknown style 'nope'" in capsys.readouterr().err
    assert main([str(image), "--style", "test_a", "--models", str(onnx_models_dir), "--strength", "2"]) == 2
    assert "strength" in capsys.readouterr().err
    assert main([str(image), "--style", "test_a", "--models", str(tmp_path / "none")]) == 2
    assert main(["--list", "--models", str(onnx_models_dir)]) == 0
    assert "test_a" in capsys.readouterr().out
    assert main(["--style", "test_a", "--models", str(onnx_models_dir)]) == 2
    assert "no image files" in capsys.readouterr().err


def test_console_script_is_installed(onnx_models_dir):
    scripts = Path(sys.executable).parent
    done = subprocess.run([str(scripts / "stylize"), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--preserve-color" in done.stdout


def test_mask_and_brush(onnx_models_dir, tmp_path, capsys):
    import numpy as np

    photo, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    synthetic_photo(40, 30, seed=3).save(photo)
    Image.new("L", (4, 3), 0).save(mask)  # black: the photo everywhere
    code = main([str(photo), "--style", "test_a", "--models", str(onnx_models_dir), "--out", str(tmp_path / "out"),
                 "--format", "png", "--mask", str(mask), "--brush", "2"])
    assert code == 0
    result = np.asarray(Image.open(tmp_path / "out" / "photo.test_a.png").convert("RGB"))
    np.testing.assert_array_equal(result, np.asarray(Image.open(photo).convert("RGB")))
    assert main([str(photo), "--style", "test_a", "--models", str(onnx_models_dir), "--brush", "9"]) == 2
    assert "brush" in capsys.readouterr().err
    assert main([str(photo), "--style", "test_a", "--models", str(onnx_models_dir),
                 "--mask", str(tmp_path / "missing.png")]) == 2
    assert "missing.png" in capsys.readouterr().err
