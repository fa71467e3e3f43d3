import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from training.data import DatasetError, EpochSampler, PhotoDataset
from training.evaluate import evaluate
from training.train import TrainConfig, native_bf16, train

ROOT = Path(__file__).resolve().parents[1]


def tiny_config(photo_dir, style_image, out, **overrides) -> TrainConfig:
    settings = dict(dataset=str(photo_dir), style_images=[str(style_image)], out=str(out), iterations=6,
                    batch_size=2, image_size=32, style_size=48, vgg_weights="random", workers=0,
                    log_every=1, checkpoint_every=3, sample_every=3, device="cpu", seed=7)
    settings.update(overrides)
    return TrainConfig(**settings)


def metrics(out) -> list:
    return [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]


def test_twenty_steps_lower_the_total_loss(photo_dir, style_image, tmp_path):
    # batch = the whole (4-image) dataset at its full size: only the flips vary between steps
    for p in list(photo_dir.rglob("*.jpg"))[4:]:
        p.unlink()
    config = tiny_config(photo_dir, style_image, tmp_path / "run", iterations=20, batch_size=4, lr=1e-2)
    result = train(config)
    losses = [m["total"] for m in metrics(config.out)]
    assert len(losses) == 20
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3, losses
    out = Path(config.out)
    assert (out / "final.pth").is_file()
    card = json.loads((out / "training_summary.json").read_text())
    assert card["steps"] == 20 and card["loss_network"]["source"] == "random"
    assert set(card["final_losses"]) == {"total", "content", "style", "tv"}
    assert result["summary"]["hyperparameters"]["batch_size"] == 4
    samples = sorted((out / "samples").glob("*.jpg"))
    assert samples and Image.open(samples[-1]).size[0] > 0


def test_resume_gives_the_same_next_steps(photo_dir, style_image, tmp_path):
    straight = tiny_config(photo_dir, style_image, tmp_path / "straight")
    train(straight)
    reference = metrics(straight.out)

    # a second run starts from the step-3 checkpoint of the first (as after a crash at step 3)
    resumed_dir = tmp_path / "resumed"
    (resumed_dir / "checkpoints").mkdir(parents=True)
    shutil.copy(Path(straight.out) / "checkpoints" / "step_000003.pth", resumed_dir / "checkpoints")
    resumed = tiny_config(photo_dir, style_image, resumed_dir, resume="latest")
    card = train(resumed)["summary"]
    assert card["resumed_at_steps"] == [3]
    assert card["wall_time_s"] > torch.load(resumed_dir / "checkpoints" / "step_000003.pth",
                                            weights_only=False)["wall_time_s"] > 0
    # the compute record: one segment per process, each with its steps, images, recipe and CPU time
    first, second = card["segments"]
    assert (first["steps"], second["steps"]) == ([0, 3], [3, 6])
    assert first["images"] == second["images"] == 3 * 2 and first["batch_size"] == 2
    assert first["cpu_s"] > 0 and second["cpu_s"] > 0 and first["device"] == "cpu"
    assert card["compute"]["images"] == 12 and card["compute"]["segments"] == 2
    assert card["compute"]["cpu_hours"] == round((first["cpu_s"] + second["cpu_s"]) / 3600, 2)
    after = metrics(resumed.out)
    assert [m["step"] for m in after] == [4, 5, 6]
    for a, b in zip(after, reference[3:], strict=True):
        assert a["total"] == pytest.approx(b["total"], rel=1e-6), (a, b)


def test_a_resumed_segment_trains_at_its_own_learning_rate(photo_dir, style_image, tmp_path):
    first = tiny_config(photo_dir, style_image, tmp_path / "run", iterations=3, lr=1e-3)
    train(first)
    card = train(tiny_config(photo_dir, style_image, tmp_path / "run", iterations=5, lr=1e-4,
                             resume=str(tmp_path / "run" / "final.pth")))["summary"]
    assert [m["lr"] for m in metrics(first.out)] == [1e-3] * 3 + [1e-4] * 2
    assert [s["lr"] for s in card["segments"]] == [1e-3, 1e-4]


def test_auto_precision_is_bf16_only_where_the_hardware_has_it(photo_dir, style_image, tmp_path):
    summary = train(tiny_config(photo_dir, style_image, tmp_path / "run", iterations=2, precision="auto"))["summary"]
    expected = "bf16" if native_bf16(torch.device("cpu")) else "off"  # emulated bf16 is hundreds of times slower
    assert summary["hyperparameters"]["precision"] == summary["segments"][0]["precision"] == expected
    assert math.isfinite(summary["final_losses"]["total"])


def test_checkpoints_are_pruned_and_written_atomically(photo_dir, style_image, tmp_path):
    config = tiny_config(photo_dir, style_image, tmp_path / "run", iterations=7, checkpoint_every=1,
                         keep_checkpoints=2)
    train(config)
    names = sorted(p.name for p in (Path(config.out) / "checkpoints").iterdir())
    assert names == ["step_000005.pth", "step_000006.pth"]  # no .tmp left behind


def test_data_order_does_not_depend_on_workers(photo_dir):
    dataset = PhotoDataset(photo_dir, 24, seed=3)
    sampler = EpochSampler(len(dataset), 2, seed=3)
    batches = {}
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(dataset, batch_size=2, sampler=sampler, num_workers=workers)
        batches[workers] = torch.cat(list(loader))
    assert torch.equal(batches[0], batches[2])


def test_sampler_shards_and_resumes_mid_epoch():
    full = list(EpochSampler(20, 2, seed=1))
    ranks = [list(EpochSampler(20, 2, seed=1, rank=r, world_size=2)) for r in (0, 1)]
    assert sorted(ranks[0] + ranks[1]) == sorted(full[:20])
    assert not set(ranks[0]) & set(ranks[1])
    late = EpochSampler(20, 2, seed=1)
    late.set_position(0, 3)
    assert list(late) == full[6:]


def test_unreadable_files_are_skipped_and_counted(photo_dir):
    (photo_dir / "broken.jpg").write_bytes(b"not an image at all")
    (photo_dir / "notes.txt").write_text("ignored: not an image extension")
    dataset = PhotoDataset(photo_dir, 24)
    assert len(dataset) == 8 and len(dataset.skipped) == 1
    assert dataset[0].shape == (3, 24, 24)


def test_empty_dataset_fails_before_any_work(tmp_path, style_image):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        train(tiny_config(tmp_path / "empty", style_image, tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_missing_style_image_fails_before_any_work(photo_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="style image not found"):
        train(tiny_config(photo_dir, tmp_path / "nope.jpg", tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def run_cli(*args, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "training", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT, **kwargs)


def test_cli_reports_errors_clearly(photo_dir, style_image, tmp_path):
    result = run_cli("train", "--dataset", tmp_path / "missing", "--style-image", style_image, "--out",
                     tmp_path / "run", "--iterations", 1)
    assert result.returncode == 2
    assert "dataset folder not found" in result.stderr and "Traceback" not in result.stderr
    bad_weights = tmp_path / "bad.pth"
    torch.save({"something": torch.zeros(1)}, bad_weights)
    result = run_cli("train", "--dataset", photo_dir, "--style-image", style_image, "--out", tmp_path / "run",
                     "--iterations", 1, "--vgg-weights", bad_weights)
    assert result.returncode == 2 and "not a VGG16 weights file" in result.stderr


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(photo_dir, style_image, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--dataset", photo_dir, "--style-image", style_image, "--out", out, "--iterations", 10000,
            "--batch-size", 2, "--image-size", 32, "--style-size", 48, "--vgg-weights", "random",
            "--workers", 1, "--log-every", 1, "--device", "cpu"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "training", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not ((out / "metrics.jsonl").exists() and metrics(out)):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr  # not "done": no final model yet
    saved = sorted((out / "checkpoints").glob("step_*.pth"))
    assert len(saved) == 1, stderr
    step = torch.load(saved[0], weights_only=False)["step"]
    assert step >= 1 and "resume with --resume latest" in stderr
    assert not (out / "final.pth").exists()

    result = run_cli(*args[:8], step + 2, *args[9:], "--resume", timeout=300)
    assert result.returncode == 0, result.stderr
    assert [m["step"] for m in metrics(out)][-2:] == [step + 1, step + 2]
    assert (out / "final.pth").is_file()


def test_evaluate_reports_losses_for_a_checkpoint(photo_dir, style_image, tmp_path):
    config = tiny_config(photo_dir, style_image, tmp_path / "run", iterations=2)
    train(config)
    report = evaluate(Path(config.out) / "final.pth", photo_dir, per_image=True)
    assert report["count"] == 8 and len(report["per_image"]) == 8
    assert report["style_image"] == str(style_image)  # taken from the checkpoint
    for key in ("content", "style", "tv"):
        assert report[key] > 0 and report[key] < float("inf")


def test_ddp_under_torchrun_on_cpu(photo_dir, style_image, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "training",
         "train", "--dataset", str(photo_dir), "--style-image", str(style_image), "--out", str(out),
         "--iterations", "3", "--batch-size", "2", "--image-size", "32", "--style-size", "48",
         "--vgg-weights", "random", "--workers", "0", "--log-every", "1", "--device", "cpu"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [m["step"] for m in metrics(out)] == [1, 2, 3]  # written once, by rank 0
    card = json.loads((out / "training_summary.json").read_text())
    assert card["images_seen"] == 3 * 2 * 2
