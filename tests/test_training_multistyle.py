"""The multi-style network (conditional instance norm) and its training: one network, many styles."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from synthetic import synthetic_photo

from export.card import load_checkpoint
from export.card import training_summary as export_summary
from training.checkpoint import init_from
from training.losses import PerceptualLoss, tv_abs_loss, tv_loss
from training.model import TransformerNet, load_transformer
from training.narrow import channel_sets, narrow_state
from training.train import TrainConfig, draw_styles, train
from training.vgg import load_loss_network


@pytest.fixture
def paintings(tmp_path):
    paths = []
    for i, name in enumerate(("wave", "scream", "udnie")):
        path = tmp_path / f"{name}.png"
        synthetic_photo(56 + 8 * i, 48, seed=200 + i).save(path)
        paths.append(path)
    return paths


def multistyle_config(photo_dir, paintings, out, **overrides) -> TrainConfig:
    settings = dict(dataset=str(photo_dir), style_images=[str(p) for p in paintings], out=str(out), iterations=4,
                    batch_size=2, image_size=32, style_size=48, width=8, vgg_weights="random", workers=0,
                    log_every=1, checkpoint_every=2, sample_every=4, device="cpu", seed=3)
    settings.update(overrides)
    return TrainConfig(**settings)


def test_one_hot_weights_give_exactly_that_style():
    torch.manual_seed(0)
    multi = TransformerNet(num_styles=3, width=8).eval()
    for norm in multi.norm_layers():
        torch.nn.init.normal_(norm.weight, 1.0, 0.3)
        torch.nn.init.normal_(norm.bias, 0.0, 0.3)
    x = torch.rand(2, 3, 21, 30) * 255
    with torch.no_grad():
        for k in range(3):
            single = TransformerNet(num_styles=1, width=8).eval()
            state = {key: (v[k:k + 1] if v.dim() == 2 else v) for key, v in multi.state_dict().items()}
            single.load_state_dict(state)
            by_index = multi(x, torch.tensor([k, k]))
            by_weights = multi(x, torch.nn.functional.one_hot(torch.tensor([k, k]), 3).float())
            assert torch.equal(by_index, by_weights)
            assert torch.allclose(by_index, single(x), atol=1e-4)
        # a blend is neither pure style
        blend = multi(x, torch.tensor([[0.5, 0.5, 0.0]] * 2))
        assert not torch.allclose(blend, multi(x, torch.tensor([0, 0])), atol=1e-2)


def test_half_width_is_smaller_and_a_multi_style_network_needs_styles():
    full, half = TransformerNet(), TransformerNet(width=16)
    assert sum(p.numel() for p in half.parameters()) < 0.3 * sum(p.numel() for p in full.parameters())
    with pytest.raises(ValueError, match="needs styles"):
        TransformerNet(num_styles=2, width=4)(torch.rand(1, 3, 16, 16))


def test_a_checkpoint_from_before_conditional_norm_still_loads():
    net = TransformerNet(width=8).eval()
    old_format = {k: (v[0] if v.dim() == 2 else v) for k, v in net.state_dict().items()}  # norms were [C]
    assert old_format["conv1.1.weight"].dim() == 1
    loaded = load_transformer(old_format)
    x = torch.rand(1, 3, 17, 19) * 255
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))


def test_each_image_is_judged_against_its_own_painting():
    vgg = load_loss_network("random")
    a, b = torch.rand(3, 40, 40) * 255, torch.rand(3, 40, 40) * 80
    criterion = PerceptualLoss(vgg, [a, b], style_weight=[1.0, 4.0])
    only_a = PerceptualLoss(vgg, a)
    output, content = torch.rand(2, 3, 32, 32) * 255, torch.rand(2, 3, 32, 32) * 255
    both_a = criterion(output, content, torch.tensor([0, 0]))
    assert float(both_a.style) == pytest.approx(float(only_a(output, content).style), rel=1e-5)
    mixed = criterion(output, content, torch.tensor([0, 1]))
    assert float(mixed.style) != pytest.approx(float(both_a.style), rel=1e-3)
    with pytest.raises(ValueError, match="2 style weights for 1"):
        PerceptualLoss(vgg, a, style_weight=[1.0, 2.0])


def test_each_style_can_have_its_own_tv_weight():
    # A painting whose strokes leave too much fine texture gets more TV weight, without smoothing the others.
    vgg = load_loss_network("random")
    a, b = torch.rand(3, 40, 40) * 255, torch.rand(3, 40, 40) * 80
    output, content = torch.rand(2, 3, 32, 32) * 255, torch.rand(2, 3, 32, 32) * 255
    base = PerceptualLoss(vgg, [a, b], tv_weight=0.0)(output, content, torch.tensor([0, 1]))
    single = PerceptualLoss(vgg, [a, b], tv_weight=2.0)(output, content, torch.tensor([0, 1]))
    only_b = PerceptualLoss(vgg, [a, b], tv_weight=[0.0, 2.0])(output, content, torch.tensor([0, 1]))
    tv_of_b = float(tv_loss(output[1:]))
    assert float(single.total - base.total) == pytest.approx(2.0 * float(single.tv), rel=1e-4)  # as before
    assert float(only_b.total - base.total) == pytest.approx(2.0 * tv_of_b / 2, rel=1e-4)  # the batch mean
    assert float(only_b.tv) == pytest.approx(float(single.tv), rel=1e-6)  # reported unweighted
    with pytest.raises(ValueError, match="3 TV weights for 2"):
        PerceptualLoss(vgg, [a, b], tv_weight=[1.0, 2.0, 3.0])


def test_absolute_tv_is_the_quality_kits_and_can_be_weighted_per_style():
    # The kit judges TV as the mean absolute neighbour difference (../shared/quality-kit/quality.py: tv);
    # the absolute TV term is that, per image, and adds only where a style's weight is not zero.
    image = torch.rand(2, 3, 9, 11) * 255
    u8 = image[1].permute(1, 2, 0).numpy()
    kit_tv = (abs(u8[:, 1:] - u8[:, :-1]).mean() + abs(u8[1:] - u8[:-1]).mean()) / 2
    assert float(tv_abs_loss(image)[1]) == pytest.approx(float(kit_tv), rel=1e-5)
    flat = torch.full((1, 3, 8, 8), 7.0)
    assert float(tv_abs_loss(flat)[0]) == 0.0

    vgg = load_loss_network("random")
    a, b = torch.rand(3, 40, 40) * 255, torch.rand(3, 40, 40) * 80
    output, content = torch.rand(2, 3, 32, 32) * 255, torch.rand(2, 3, 32, 32) * 255
    styles = torch.tensor([0, 1])
    base = PerceptualLoss(vgg, [a, b])(output, content, styles)
    only_b = PerceptualLoss(vgg, [a, b], tv_abs_weight=[0.0, 3.0])(output, content, styles)
    assert float(only_b.total - base.total) == pytest.approx(3.0 * float(tv_abs_loss(output[1:])[0]) / 2, rel=1e-4)
    assert float(only_b.tv) == pytest.approx(float(base.tv), rel=1e-6)  # the reported TV stays the squared one
    with pytest.raises(ValueError, match="3 absolute TV weights for 2"):
        PerceptualLoss(vgg, [a, b], tv_abs_weight=[1.0, 2.0, 3.0])


def test_training_several_styles_records_each(photo_dir, paintings, tmp_path):
    config = multistyle_config(photo_dir, paintings, tmp_path / "run", style_weight=[1.0, 2.0, 3.0],
                               tv_weight=[0.1, 0.2, 0.3], tv_abs_weight=[0.0, 0.0, 0.5])
    result = train(config)
    summary = json.loads((tmp_path / "run" / "training_summary.json").read_text())
    assert [s["id"] for s in summary["styles"]] == ["wave", "scream", "udnie"]
    assert [s["style_weight"] for s in summary["styles"]] == [1.0, 2.0, 3.0]
    assert summary["hyperparameters"]["tv_weight"] == [0.1, 0.2, 0.3]
    assert summary["hyperparameters"]["tv_abs_weight"] == [0.0, 0.0, 0.5]
    assert summary["segments"][-1]["tv_abs_weight"] == [0.0, 0.0, 0.5]
    assert result["summary"]["hyperparameters"]["width"] == 8
    net = load_transformer(torch.load(tmp_path / "run" / "final.pth", weights_only=False)["model"])
    assert net.num_styles == 3 and net.width == 8


def test_a_style_given_a_larger_share_is_drawn_that_much_more_often():
    draws = lambda shares: torch.cat([draw_styles([0, 1, 2], 4, 7, step, 0, shares)  # noqa: E731
                                      for step in range(3000)])
    counts = torch.bincount(draws([1.0, 1.0, 2.0]), minlength=3).float()
    assert counts[2] / counts[0] == pytest.approx(2.0, rel=0.1) and counts[1] / counts[0] == pytest.approx(1, rel=0.1)
    assert torch.equal(draws([1.0, 1.0, 2.0]), draws([1.0, 1.0, 2.0]))  # a resume draws the same styles
    equal = torch.bincount(draws(None), minlength=3).float()
    assert float(equal.max() / equal.min()) < 1.1
    # fine-tuning new styles: the shares are indexed by the network's styles, not by the list drawn from
    assert set(draw_styles([1, 2], 64, 7, 0, 0, [100.0, 1.0, 1.0]).tolist()) <= {1, 2}


def test_style_shares_are_recorded_and_checked(photo_dir, paintings, tmp_path):
    config = multistyle_config(photo_dir, paintings, tmp_path / "run", iterations=2, style_share=[1.0, 1.0, 3.0])
    train(config)
    summary = json.loads((tmp_path / "run" / "training_summary.json").read_text())
    assert summary["hyperparameters"]["style_share"] == [1.0, 1.0, 3.0]
    assert summary["segments"][-1]["style_share"] == [1.0, 1.0, 3.0]
    for bad in ([1.0, 2.0], [1.0, 0.0, 1.0]):
        with pytest.raises(ValueError, match="one positive share per style"):
            train(multistyle_config(photo_dir, paintings, tmp_path / "bad", style_share=bad))


def plain_and_taught_students(photo_dir, paintings, tmp_path, **teaching):
    """A 2-step teacher, then two width-4 students narrowed from it: "plain" without the teacher, "taught" with it
    (`teaching`: the teacher weights). Returns the teacher's path, a function giving a run's outputs and the
    teacher's on three photos, one style each."""
    train(multistyle_config(photo_dir, paintings, tmp_path / "teacher", iterations=2))
    teacher_path = tmp_path / "teacher" / "final.pth"
    common = dict(width=4, iterations=12, lr=1e-2, init_from=str(teacher_path))
    train(multistyle_config(photo_dir, paintings, tmp_path / "plain", **common))
    train(multistyle_config(photo_dir, paintings, tmp_path / "taught", teacher=str(teacher_path), **teaching,
                            **common))
    teacher = load_transformer(torch.load(teacher_path, weights_only=False)["model"])
    photos = torch.stack([torch.from_numpy(np.asarray(synthetic_photo(32, 32, seed=s), np.float32)).permute(2, 0, 1)
                          for s in range(3)])
    styles = torch.tensor([0, 1, 2])

    @torch.no_grad()
    def outputs(run):
        net = load_transformer(torch.load(tmp_path / run / "final.pth", weights_only=False)["model"])
        return net(photos, styles), teacher(photos, styles)

    return teacher_path, outputs


def test_a_narrower_student_learns_to_match_its_teacher(photo_dir, paintings, tmp_path):
    teacher_path, outputs = plain_and_taught_students(photo_dir, paintings, tmp_path, teacher_weight=100.0)

    def gap(run):
        ours, theirs = outputs(run)
        return float((ours - theirs).square().mean())

    assert gap("taught") < 0.25 * gap("plain")
    summary = json.loads((tmp_path / "taught" / "training_summary.json").read_text())
    assert summary["segments"][-1]["teacher"] == str(teacher_path)
    assert summary["hyperparameters"]["teacher_weight"] == 100.0


def test_a_student_taught_by_features_copies_the_teachers_features(photo_dir, paintings, tmp_path):
    """--teacher-features-weight alone: the loss network's features of the student's output stay nearer those
    of the teacher's output than without it, and the run records the weight and logs the gaps."""
    _, outputs = plain_and_taught_students(photo_dir, paintings, tmp_path, teacher_features_weight=20.0)
    with pytest.warns(UserWarning, match="RANDOM"):
        vgg = load_loss_network("random")

    @torch.no_grad()
    def feature_gap(run):
        ours, theirs = (vgg(images, ("relu3_3",))["relu3_3"] for images in outputs(run))
        return float((ours - theirs).square().mean())

    assert feature_gap("taught") < 0.5 * feature_gap("plain")
    summary = json.loads((tmp_path / "taught" / "training_summary.json").read_text())
    assert summary["hyperparameters"]["teacher_features_weight"] == 20.0
    assert summary["segments"][-1]["teacher_features_weight"] == 20.0
    logged = [json.loads(line) for line in (tmp_path / "taught" / "metrics.jsonl").read_text().splitlines()]
    assert all(line["teacher_features"] > 0 and "teacher" in line for line in logged)


def test_a_teacher_must_serve_the_runs_styles_in_its_order(photo_dir, paintings, tmp_path):
    train(multistyle_config(photo_dir, paintings, tmp_path / "teacher", iterations=1))
    teacher_path = str(tmp_path / "teacher" / "final.pth")
    with pytest.raises(ValueError, match="are not the run's"):
        train(multistyle_config(photo_dir, paintings[::-1], tmp_path / "other", teacher=teacher_path,
                                teacher_weight=1.0, style_ids=["udnie", "scream", "wave"]))
    with pytest.raises(ValueError, match="go together"):
        train(multistyle_config(photo_dir, paintings, tmp_path / "other", teacher=teacher_path))
    with pytest.raises(ValueError, match="go together"):
        train(multistyle_config(photo_dir, paintings, tmp_path / "other", teacher_features_weight=1.0))


def test_finetuning_a_new_style_changes_only_its_gammas_and_betas(photo_dir, paintings, tmp_path):
    base = multistyle_config(photo_dir, paintings[:2], tmp_path / "base", iterations=2)
    train(base)
    before = torch.load(tmp_path / "base" / "final.pth", weights_only=False)["model"]
    # a wider --width than the base network's (a job's default): the frozen network is the base, at its width
    config = multistyle_config(photo_dir, paintings, tmp_path / "new", iterations=3, lr=0.05, width=16,
                               init_from=str(tmp_path / "base" / "final.pth"), finetune_new_styles=True)
    assert train(config)["summary"]["hyperparameters"]["width"] == 8
    after = torch.load(tmp_path / "new" / "final.pth", weights_only=False)["model"]
    changed = []
    for key, old in before.items():
        new = after[key]
        if old.dim() == 2:  # norm rows: the two old styles kept, the new third row trained
            assert torch.equal(new[:2], old), key
            changed.append(not torch.allclose(new[2], old.mean(0)))
        else:
            assert torch.equal(new, old), key
    assert any(changed)


def test_a_narrowed_network_counts_the_compute_of_the_runs_it_started_from(photo_dir, paintings, tmp_path):
    wide = multistyle_config(photo_dir, paintings[:2], tmp_path / "wide", iterations=2)
    train(wide)
    narrow = multistyle_config(photo_dir, paintings[:2], tmp_path / "narrow", iterations=4, width=6,
                               checkpoint_every=2, init_from=str(tmp_path / "wide" / "final.pth"))
    train(narrow)
    # cut short at step 2 and resumed: the lineage travels in the checkpoint, not in the command line
    resumed_dir = tmp_path / "resumed"
    (resumed_dir / "checkpoints").mkdir(parents=True)
    shutil.copy(tmp_path / "narrow" / "checkpoints" / "step_000002.pth", resumed_dir / "checkpoints")
    summary = train(multistyle_config(photo_dir, paintings[:2], resumed_dir, iterations=4, width=6,
                                      resume="latest"))["summary"]
    (ancestor,) = summary["lineage"]
    assert (ancestor["from"], ancestor["width"], ancestor["steps"]) == ("final.pth", 8, 2)
    assert [s["steps"] for s in ancestor["segments"]] == [[0, 2]]
    assert [s["steps"] for s in summary["segments"]] == [[0, 2], [2, 4]]  # this run's own, from step 0
    assert summary["compute"]["images"] == 4 * 2
    assert summary["compute_with_lineage"]["images"] == (2 + 4) * 2
    assert summary["compute_with_lineage"]["segments"] == 3
    # a checkpoint exported mid-run carries the same record into the model card
    _, config, step, segments, ancestry = load_checkpoint(resumed_dir / "checkpoints" / "step_000002.pth")
    card = export_summary(tmp_path / "elsewhere" / "step_000002.pth", config, step, segments, ancestry)
    assert card["lineage"] == summary["lineage"] and card["compute_with_lineage"]["images"] == (2 + 2) * 2


def test_init_from_keeps_known_styles_and_adds_new_ones(photo_dir, paintings, tmp_path):
    source = TransformerNet(num_styles=2, width=8)
    for norm in source.norm_layers():
        torch.nn.init.normal_(norm.weight, 1.0, 0.3)
    path = tmp_path / "source.pth"
    torch.save({"model": source.state_dict(), "config": {"style_ids": ["scream", "wave"]}}, path)
    net = TransformerNet(num_styles=3, width=8)
    assert init_from(net, path, ["wave", "scream", "udnie"]) == [2]
    first = net.norm_layers()[0].weight.detach()
    source_rows = source.norm_layers()[0].weight.detach()
    assert torch.equal(first[0], source_rows[1]) and torch.equal(first[1], source_rows[0])
    assert torch.allclose(first[2], source_rows.mean(0))
    with pytest.raises(ValueError, match="width 8 cannot be widened to 16"):  # one rule, in narrow_state
        init_from(TransformerNet(num_styles=1, width=16), path, ["wave"])


def test_a_narrower_network_keeps_the_channels_that_matter(tmp_path):
    # Channels whose every norm scales them to zero contribute nothing: a wide network with such channels
    # narrowed by exactly that many is the same function, and --init-from does the narrowing.
    torch.manual_seed(0)
    wide = TransformerNet(num_styles=2, width=8).eval()
    for norm in wide.norm_layers():
        torch.nn.init.normal_(norm.weight, 1.0, 0.3)
        torch.nn.init.normal_(norm.bias, 0.0, 0.3)
    modules = dict(wide.named_modules())
    for norms, _, _, multiple in channel_sets():
        dropped = torch.randperm(8 * multiple)[: 2 * multiple]  # 8 -> 6
        for name in norms:
            with torch.no_grad():
                modules[name].weight[:, dropped] = 0
                modules[name].bias[:, dropped] = 0
    narrow = TransformerNet(num_styles=2, width=6).eval()
    narrow.load_state_dict(narrow_state(wide.state_dict(), 6))
    x, styles = torch.rand(1, 3, 36, 44) * 255, torch.tensor([[0.3, 0.7]])
    with torch.no_grad():
        assert torch.allclose(narrow(x, styles), wide(x, styles), atol=1e-3)
    path = tmp_path / "wide.pth"
    torch.save({"model": wide.state_dict(), "config": {"style_ids": ["a", "b"]}}, path)
    started = TransformerNet(num_styles=2, width=6).eval()
    assert init_from(started, path, ["a", "b"]) == []
    with torch.no_grad():
        assert torch.allclose(started(x, styles), wide(x, styles), atol=1e-3)
    with pytest.raises(ValueError, match="width 6 cannot be widened to 8"):
        narrow_state(narrow.state_dict(), 8)


def test_cli_trains_from_a_catalog(photo_dir, paintings, tmp_path):
    from training.__main__ import main

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"styles": [{"id": f"s{i}", "file": Path(p).name} for i, p in enumerate(paintings)]}))
    code = main(["train", "--dataset", str(photo_dir), "--catalog", str(catalog), "--out", str(tmp_path / "cli"),
                 "--iterations", "1", "--batch-size", "2", "--image-size", "32", "--style-size", "40", "--width", "4",
                 "--vgg-weights", "random", "--workers", "0", "--device", "cpu", "--tv-abs-weight", "0", "0", "2"])
    assert code == 0
    summary = json.loads((tmp_path / "cli" / "training_summary.json").read_text())
    assert [s["id"] for s in summary["styles"]] == ["s0", "s1", "s2"]
    assert summary["hyperparameters"]["tv_abs_weight"] == [0.0, 0.0, 2.0]
    assert main(["train", "--dataset", str(photo_dir), "--style-image", str(paintings[0]), "--out",
                 str(tmp_path / "bad"), "--iterations", "1", "--finetune-new-styles"]) == 2
