"""The exporter: a single checked ONNX file with its metadata and card, parity with PyTorch, variants, CLI errors."""

import json

import numpy as np
import onnx
import pytest
import torch
from stylecore import Stylizer
from synthetic import styled_test_transformer, synthetic_photo

from export.__main__ import main as export_main
from export.card import ExportError, load_checkpoint, training_summary
from export.onnx_file import read_metadata
from export.parity import ParityError, check_parity
from training.evaluate import evaluate


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    painting = root / "painting.jpg"
    synthetic_photo(120, 90, seed=11).save(painting)
    path = root / "final.pth"
    torch.save({"format": "fnst-checkpoint", "model": styled_test_transformer(3).state_dict(), "step": 7,
                "config": {"style_image": str(painting), "vgg_weights": "random", "style_size": 64,
                           "content_layer": "relu2_2"}}, path)
    (root / "model_card.json").write_text(json.dumps({"steps": 7, "final_losses": {"content": 1.0}}))
    return path


def test_model_file_metadata_and_card(onnx_models_dir):
    path = onnx_models_dir / "test_a.onnx"
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert not any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer)
    assert list((onnx_models_dir).glob("*.data")) == []  # one file, no sidecar
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims[1] == 3 and all(isinstance(d, str) for d in (dims[0], dims[2], dims[3]))  # dynamic N, H, W
    meta = read_metadata(model)
    assert meta["style_id"] == "test_a" and meta["name"] == "Test style A" and meta["artist"] == "Test Painter A"
    assert "0..255" in meta["pixel_range"] and meta["exporter"].startswith("fast-neural-style export")
    assert json.loads(meta["training_summary"])["steps"] == 0
    card = json.loads((onnx_models_dir / "test_a.json").read_text())
    assert card["id"] == "test_a" and card["style_license"] == "public domain" and card["year"] == 1900
    assert card["thumbnail"].startswith("data:image/jpeg;base64,")
    assert card["model"]["sha256"] and card["model"]["bytes"] == path.stat().st_size
    assert all(row["max_abs_error"] <= 0.5 for row in card["parity"])


def test_onnx_matches_pytorch_on_odd_sizes_and_batches(onnx_models_dir):
    net = styled_test_transformer(1)
    rows = check_parity(net, onnx_models_dir / "test_a.onnx", sizes=((41, 29), (8, 13), (3, 1)))
    assert [r["size"] for r in rows] == ["29x41", "13x8", "1x3"]
    assert all(r["psnr_db"] is None or r["psnr_db"] >= 60 for r in rows)
    stylizer = Stylizer.from_file(onnx_models_dir / "test_a.onnx")
    batch = np.random.default_rng(0).uniform(0, 255, (2, 3, 20, 24)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(batch)).numpy()
    assert np.abs(stylizer.run(batch) - expected).max() < 0.05


def test_parity_check_catches_a_wrong_model(onnx_models_dir):
    with pytest.raises(ParityError, match="disagree"):
        check_parity(styled_test_transformer(2), onnx_models_dir / "test_a.onnx", sizes=((16, 16),))


def test_cli_export_with_variants_and_onnx_evaluate(checkpoint, tmp_path, photo_dir, capsys):
    out = tmp_path / "models" / "my_style.onnx"
    out.parent.mkdir()
    code = export_main([str(checkpoint), "--out", str(out), "--name", "My Style", "--artist", "Someone",
                        "--year", "c. 1830", "--style-license", "public domain", "--fp16", "--int8",
                        "--calibration-photos", str(photo_dir), "--calibration-count", "4",
                        "--calibration-method", "minmax", "--eval-photos", str(photo_dir), "--eval-size", "32",
                        "--parity-sizes", "24x16", "9x9"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "PSNR" in printed and "fp16" in printed and "int8" in printed
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["year"] == "c. 1830" and card["training"]["final_losses"] == {"content": 1.0}
    assert card["variants"]["fp16"]["psnr_vs_fp32_db"] > 60  # weights rounded to half precision only
    assert card["variants"]["int8"]["psnr_vs_fp32_db"] > 20
    assert card["variants"]["fp16"]["bytes"] < 0.6 * out.stat().st_size
    losses = card["variants_losses"]
    assert set(losses) >= {"my_style.onnx", "my_style.fp16.onnx", "my_style.int8.onnx", "loss_network"}
    assert losses["my_style.onnx"]["content_vs_fp32"] == 1.0
    int8 = onnx.load(out.with_name("my_style.int8.onnx"))
    assert any(node.op_type == "QuantizeLinear" for node in int8.graph.node)
    assert Stylizer.from_file(out.with_name("my_style.int8.onnx")).has_norm_stats  # tiles still work
    # training evaluate scores the ONNX file through stylecore, with defaults from its card.
    report = evaluate(out, photo_dir, image_size=32)
    assert report["count"] == 8 and report["content"] > 0 and report["style"] > 0
    assert report["content"] == pytest.approx(losses["my_style.onnx"]["content"], rel=1e-6)


@pytest.mark.parametrize("args, message", [
    (["--out", "{tmp}/model.bin"], "must be a .onnx file"),
    (["--out", "{tmp}/missing/x.onnx"], "output folder does not exist"),
    (["--out", "{tmp}/a.onnx", "--style-id", "b"], "finds a style by its file name"),
    (["--out", "{tmp}/Bad Name.onnx"], "style id"),
    (["--out", "{tmp}/a.onnx", "--style-image", "{tmp}/nope.jpg"], "style image not found"),
    (["--out", "{tmp}/a.onnx", "--int8", "--eval-photos", "{tmp}"], "--int8 needs --calibration-photos"),
])
def test_cli_rejects_bad_requests(checkpoint, tmp_path, capsys, args, message):
    code = export_main([str(checkpoint)] + [a.format(tmp=tmp_path) for a in args])
    assert code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.glob("*.onnx"))


def test_unreadable_checkpoints(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ExportError, match="not a PyTorch checkpoint"):
        load_checkpoint(bad)
    wrong = tmp_path / "wrong.pth"
    torch.save({"model": {"conv.weight": torch.zeros(1)}}, wrong)
    with pytest.raises(ExportError, match="not a TransformerNet checkpoint"):
        load_checkpoint(wrong)
    with pytest.raises(ExportError, match="not found"):
        load_checkpoint(tmp_path / "missing.pth")


def test_card_of_an_unfinished_run_reports_its_compute(tmp_path):
    # A run exported mid-way (no training_summary.json yet): the card takes the steps, images and CPU time
    # from the checkpoint's segment records, as the bundled network's card does.
    path = tmp_path / "checkpoints" / "step_000012.pth"
    path.parent.mkdir()
    segments = [{"steps": [0, 4], "images": 16, "wall_s": 7200.0, "cpu_s": 14000.0},
                {"steps": [4, 12], "images": 32, "wall_s": 3600.0, "cpu_s": 7000.0}]
    torch.save({"model": styled_test_transformer(1).state_dict(), "step": 12, "config": {"batch_size": 4},
                "segments": segments}, path)
    _, config, step, found, ancestry = load_checkpoint(path)
    assert ancestry == []
    summary = training_summary(path, config, step, found)
    assert summary["steps"] == 12 and summary["images_seen"] == 48 and summary["segments"] == segments
    assert summary["compute"] == {"segments": 2, "images": 48, "wall_hours": 3.0, "cpu_hours": 5.83}
