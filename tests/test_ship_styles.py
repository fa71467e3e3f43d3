"""scripts/ship_styles.py: which network a campaign trains, where its run and its kept state live, and what a first
run of a network with more parts starts from."""

import importlib.util
from pathlib import Path

import pytest
import torch

from training.model import TransformerNet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ship(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("ship_styles", ROOT / "scripts" / "ship_styles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(module, "CAMPAIGN_CHECKPOINT", tmp_path / "campaign" / "bundled.pth")
    (tmp_path / "campaign").mkdir()
    return module


def save(path: Path, step: int, width=4, antialias=False, detail=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    net = TransformerNet(2, width, antialias=antialias, detail=detail)
    torch.save({"model": net.state_dict(), "step": step, "config": {"style_ids": ["a", "b"]}}, path)


def test_each_network_has_its_own_name_and_starts_from_the_one_with_less(ship):
    plain, smooth, detailed = ship.Network(12), ship.Network(12, True), ship.Network(12, True, True)
    assert [n.name for n in (plain, smooth, detailed)] == ["bundled-w12", "bundled-w12-aa", "bundled-w12-aa-detail"]
    assert detailed.starts_from == smooth and smooth.starts_from == plain and plain.starts_from is None
    assert detailed.run_folder == ship.RUNS / "bundled-w12-aa-detail"
    assert detailed.progress_checkpoint.name == "bundled-w12-aa-detail.pth"


def test_the_furthest_state_is_the_networks_own_wherever_it_is_kept(ship):
    smooth, detailed = ship.Network(4, True), ship.Network(4, True, True)
    save(ship.CAMPAIGN_CHECKPOINT, 900)  # the served plain network
    save(smooth.progress_checkpoint, 300, antialias=True)
    save(smooth.run_folder / "checkpoints" / "step_000500.pth", 500, antialias=True)
    save(detailed.progress_checkpoint, 200, antialias=True, detail=True)
    assert ship.latest_state(smooth) == (500, smooth.run_folder / "checkpoints" / "step_000500.pth")
    assert ship.latest_state(detailed) == (200, detailed.progress_checkpoint)
    assert ship.latest_state(ship.Network(4)) == (900, ship.CAMPAIGN_CHECKPOINT)
    assert ship.network_shape(detailed.progress_checkpoint) == (200, detailed)


def test_a_first_run_with_the_detail_path_starts_from_the_antialiased_networks_furthest_state(ship):
    smooth, detailed = ship.Network(4, True), ship.Network(4, True, True)
    save(smooth.run_folder / "checkpoints" / "step_000700.pth", 700, antialias=True)
    args = ship.command_line().parse_args(["--iterations", "10", "--teacher-weight", "0",
                                           "--teacher-features-weight", "0"])
    args.network = detailed
    config = ship.recipe(args, state=None)
    assert (config.antialias, config.detail, config.width) == (True, True, 4)
    assert config.init_from == str(smooth.run_folder / "checkpoints" / "step_000700.pth")
    assert config.out == str(detailed.run_folder) and config.resume is None


def test_the_export_adds_the_steady_network_of_the_shipped_ones_width_where_there_is_one(ship):
    plain, detailed = ship.Network(4), ship.Network(4, True, True)
    assert ship.steady_state(plain) is None  # none trained yet
    save(detailed.progress_checkpoint, 200, antialias=True, detail=True)
    assert ship.steady_state(plain) == detailed.progress_checkpoint
    assert ship.steady_state(ship.Network(4, True)) == detailed.progress_checkpoint
    assert ship.steady_state(detailed) is None  # shipping the steady network itself: no second one
    assert ship.steady_state(ship.Network(8)) is None  # another width


def tiny_export(out: Path, scale: float, exported: str, styles: list):
    """A one-node ONNX file (Mul by `scale`) and a card such as the exporter writes: `exported` stands for the
    metadata that changes with every export."""
    import json

    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph([helper.make_node("Mul", ["x", "k"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
                              [numpy_helper.from_array(np.array([scale], np.float32), "k")])
    model = helper.make_model(graph)
    model.metadata_props.add(key="exported", value=exported)
    onnx.save(model, out)
    out.with_suffix(".json").write_text(json.dumps({"exported": exported, "styles": styles}))


def test_a_new_export_of_the_same_network_keeps_each_styles_verdicts_and_another_network_does_not(ship, tmp_path):
    import json

    out = tmp_path / "bundled.onnx"
    verdict = {"val_quality": {"style_ratio": 0.1, "passes": True}, "stability": {"moving": 1.8}}
    tiny_export(out, 2.0, "monday", [{"id": "a", "index": 0, **verdict}, {"id": "b", "index": 1}])
    before = ship.judged(out)
    tiny_export(out, 2.0, "tuesday", [{"id": "a", "index": 0}, {"id": "b", "index": 1}])  # same weights
    ship.keep_verdicts(out, before)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["exported"] == "tuesday" and card["styles"] == [{"id": "a", "index": 0, **verdict},
                                                                {"id": "b", "index": 1}]
    before = ship.judged(out)
    tiny_export(out, 3.0, "wednesday", [{"id": "a", "index": 0}])  # other weights: judged again, or not at all
    ship.keep_verdicts(out, before)
    assert json.loads(out.with_suffix(".json").read_text())["styles"] == [{"id": "a", "index": 0}]
    assert ship.judged(tmp_path / "none.onnx") is None
