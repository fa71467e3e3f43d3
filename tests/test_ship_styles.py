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
