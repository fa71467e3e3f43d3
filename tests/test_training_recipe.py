"""The trainer's recipe and run folder (training/recipe.py, training/runfolder.py): one way to write a config as
the trainer's command line and read it back; the jobs' arguments are the training job's; the run's record holds
the recipe one way; SageMaker's metric definition reads what the trainer logs."""

import json
import logging
import re
from dataclasses import asdict
from pathlib import Path

import pytest
from stylejobs import progress
from stylejobs.jobs import Schedule, command_line, job_arguments
from stylejobs.sagemaker import METRIC_DEFINITIONS

from training import job, runfolder
from training.recipe import DEFAULTS, OPTIONS, TrainConfig, arguments, parse
from training.record import RECIPE
from training.train import train


@pytest.mark.parametrize("settings", [
    dict(iterations=5),
    dict(epochs=1.5, style_ids=["q", "r"], style_size=None, channels_last=False, compile=True),
    dict(iterations=3, style_weight=[1.0, 2.5], tv_weight=0.5, tv_abs_weight=[0.0, 3.0], style_share=[1.0, 2.0],
         teacher="t.pth", teacher_weight=100.0, teacher_features_weight=1.0, shift_weight=1000.0, precision="auto",
         init_from="base.onnx", finetune_new_styles=True, sample_images=["s.jpg"], resume="latest", lr=2e-4),
])
def test_a_config_written_as_the_trainers_arguments_reads_back_the_same(settings):
    config = TrainConfig(dataset="photos", style_images=["a/one.jpg", "b/two.jpg"], out="run", **settings)
    assert parse(arguments(config)) == config


def test_the_command_line_takes_its_defaults_from_the_recipe():
    config = parse(["--dataset", "d", "--style-image", "a.jpg", "--out", "o", "--iterations", "1"])
    assert config == TrainConfig("d", ["a.jpg"], "o", iterations=1)
    assert arguments(config) == ["--dataset", "d", "--style-image", "a.jpg", "--out", "o", "--iterations", "1"]
    assert set(OPTIONS) == set(DEFAULTS) == set(asdict(config))


def test_the_jobs_arguments_are_the_training_jobs_and_its_phases_the_schedules():
    schedule = Schedule(phases=((60, 32), (40, 64)), batch_size=2, width=4, style_weight=2.5)
    words = command_line(job_arguments(schedule, painting="p.png", dataset="photos", run="run", style_id="user-x",
                                       name="My -- painting", base_network="base.onnx", vgg_weights="random",
                                       sample_image=None, device="cpu", workers=0))
    args = job.parse_args(words)
    assert args.name == "My -- painting" and job.parse_phases(args.phases) == schedule.phases
    config = job.phase_config(args, 100, 64, None)
    assert (config.dataset, config.style_images, config.style_ids, config.out) == ("photos", ["p.png"],
                                                                                   ["user-x"], "run")
    assert (config.iterations, config.image_size, config.batch_size, config.width) == (100, 64, 2, 4)
    assert (config.style_weight, config.lr, config.style_size) == (2.5, schedule.lr, schedule.style_size)
    assert (config.init_from, config.finetune_new_styles, config.precision) == ("base.onnx", True, "auto")
    assert (config.vgg_weights, config.device, config.workers) == ("random", "cpu", 0)
    trainer = job.train_command(args, 100, 64, None, gpus=0)
    assert trainer[1:4] == ["-m", "training", "train"] and parse(trainer[4:]) == config


def test_the_jobs_progress_reads_the_run_folders_names():
    assert (progress.METRICS, progress.SAMPLES) == (runfolder.METRICS, runfolder.SAMPLES)
    sheet = runfolder.RunFolder("jobs/x/run").sample_sheet(1200)
    assert progress.latest_sample([str(sheet)]) == (1200, str(sheet))


def test_the_sagemaker_metric_reads_the_trainers_log_and_the_record_holds_the_recipe_once(
        photo_dir, style_image, tmp_path, caplog):
    config = TrainConfig(dataset=str(photo_dir), style_images=[str(style_image)], out=str(tmp_path / "run"),
                         iterations=3, batch_size=2, image_size=32, style_size=48, vgg_weights="random", workers=0,
                         log_every=1, device="cpu", seed=7)
    with caplog.at_level(logging.INFO, logger="training"):
        result = train(config)
    logged = [json.loads(line) for line in Path(config.out, runfolder.METRICS).read_text().splitlines()]
    for definition in METRIC_DEFINITIONS:
        found = [float(value) for value in re.findall(definition["Regex"], caplog.text)]
        assert found == pytest.approx([m["total"] for m in logged], rel=1e-6) and len(found) == 3
    summary = result["summary"]
    segment = summary["segments"][-1]
    assert {k: summary["hyperparameters"][k] for k in RECIPE} == {k: segment[k] for k in RECIPE}
