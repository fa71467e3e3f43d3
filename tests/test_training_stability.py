"""Temporal stability from still photos (training/stability.py): the moved view, the criterion, and the loop."""

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from training.model import load_transformer
from training.stability import LATTICE, MARGIN, ShiftConsistency, draw_shift, moved, with_noise
from training.train import TrainConfig, train


def photos(seed=0, size=64):
    return torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 255


def lattice_network(x, styles=None):
    """Strokes snapped to a 4-px lattice: what two stride-2 layers and two nearest upsamplings can do."""
    return F.interpolate(F.avg_pool2d(x, LATTICE), scale_factor=LATTICE, mode="nearest")


def smooth_network(x, styles=None):
    """Shift-equivariant away from the borders: a stride-1 blur."""
    kernel = torch.ones(3, 1, 5, 5) / 25
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel, groups=3)


@pytest.mark.parametrize("dy, dx", [(1, 0), (0, 3), (2, 1), (3, 3)])
def test_the_moved_view_is_the_scene_moved_at_the_same_size(dy, dx):
    scene = photos()
    view = moved(scene, dy, dx)
    assert view.shape == scene.shape
    h, w = scene.shape[-2:]
    assert torch.equal(view[..., :h - dy, :w - dx], scene[..., dy:, dx:])


def test_every_phase_of_the_lattice_is_drawn_the_still_camera_included():
    generator = torch.Generator().manual_seed(0)
    drawn = {draw_shift(generator) for _ in range(400)}
    assert drawn == {(dy, dx) for dy in range(LATTICE) for dx in range(LATTICE)}


def test_noise_is_a_camera_frame_of_8_bits_with_the_given_spread():
    flat = torch.full((1, 3, 64, 64), 128.0)
    frame = with_noise(flat, 2.0, torch.Generator().manual_seed(1))
    assert torch.equal(frame, frame.round()) and frame.min() >= 0 and frame.max() <= 255
    assert 1.7 < float((frame - flat).std()) < 2.3
    assert torch.equal(with_noise(flat, 0.0, torch.Generator()), flat)


@pytest.mark.parametrize("shift", [(1, 0), (0, 2), (3, 1)])
def test_a_shift_equivariant_network_scores_zero_and_a_lattice_network_does_not(shift):
    criterion = ShiftConsistency(noise_std=0.0)
    scene = photos(seed=3)
    frame = moved(scene, *shift)
    for network, stable in ((smooth_network, True), (lattice_network, False)):
        score = float(criterion(network(frame), network(scene), shift))
        assert (score < 1e-6) == stable, (network.__name__, score)
    # a whole lattice cell is no sub-lattice motion: the lattice network follows it exactly
    assert float(criterion(lattice_network(moved(scene, LATTICE, 0)), lattice_network(scene), (LATTICE, 0))) < 1e-6


def test_the_frames_are_the_photos_moved_with_noise():
    scene = photos(seed=4)
    frames, shift = ShiftConsistency(noise_std=2.0).frames(scene, torch.Generator().manual_seed(5))
    difference = (frames - moved(scene, *shift))[..., MARGIN:-MARGIN, MARGIN:-MARGIN]
    assert 1.5 < float(difference.std()) < 2.5  # the noise (and 8-bit rounding), nothing else


def tiny_config(photo_dir, style_image, out, **overrides) -> TrainConfig:
    settings = dict(dataset=str(photo_dir), style_images=[str(style_image)], out=str(out), iterations=4,
                    batch_size=2, image_size=48, style_size=48, vgg_weights="random", workers=0,
                    log_every=1, checkpoint_every=100, sample_every=100, device="cpu", seed=7)
    settings.update(overrides)
    return TrainConfig(**settings)


def test_the_loop_weighs_the_shift_term_logs_it_and_records_the_recipe(photo_dir, style_image, tmp_path):
    plain = tiny_config(photo_dir, style_image, tmp_path / "plain")
    steady = tiny_config(photo_dir, style_image, tmp_path / "steady", shift_weight=0.5, shift_noise=1.5)
    train(plain)
    result = train(steady)
    lines = lambda run: [json.loads(x) for x in (Path(run.out) / "metrics.jsonl").read_text().splitlines()]  # noqa
    assert all("shift" not in m for m in lines(plain))
    for m in lines(steady):
        assert m["shift"] > 0
    # the first step starts from the same weights and photos: the total differs by exactly the weighted term
    first_plain, first_steady = lines(plain)[0], lines(steady)[0]
    assert first_steady["total"] == pytest.approx(first_plain["total"] + 0.5 * first_steady["shift"], rel=1e-4)
    hyper = result["summary"]["hyperparameters"]
    assert hyper["shift_weight"] == 0.5 and hyper["shift_noise"] == 1.5
    assert result["summary"]["segments"][-1]["shift_weight"] == 0.5


def test_training_with_the_shift_term_gives_a_steadier_network(photo_dir, style_image, tmp_path):
    # the same run twice from the same start, once with the shift term: the painted strokes of the first jump
    # with a sub-lattice move of the photo, the second's follow it
    common = dict(iterations=12, lr=1e-2, batch_size=4)
    plain = tiny_config(photo_dir, style_image, tmp_path / "plain", **common)
    steady = tiny_config(photo_dir, style_image, tmp_path / "steady", shift_weight=50.0, **common)
    criterion, scene = ShiftConsistency(noise_std=0.0), photos(seed=6, size=64) * 0.5 + 64
    scores = {}
    for config in (plain, steady):
        train(config)
        net = load_transformer(torch.load(Path(config.out) / "final.pth", weights_only=False)["model"])
        with torch.no_grad():
            scores[config.out] = sum(float(criterion(net(moved(scene, *shift)), net(scene), shift))
                                     for shift in ((1, 0), (0, 2), (3, 1)))
    assert scores[steady.out] < 0.5 * scores[plain.out], scores


def test_a_negative_shift_weight_fails_before_any_work(photo_dir, style_image, tmp_path):
    with pytest.raises(ValueError, match="shift"):
        train(tiny_config(photo_dir, style_image, tmp_path / "bad", shift_weight=-1.0))
