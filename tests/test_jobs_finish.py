""""Use it now": finishing a running job early, with the real trainer and exporter on tiny data (a width-4
network, 32-pixel crops, the random-weight loss network). The local stack's job, finished after its first
checkpoint, ends done with a style exported from that step, which stylizes a photo; and training/job.py itself
exports on SIGTERM where asked to (SageMaker's --on-stop export) and at once when a finish was asked before it
started. Responses are checked against openapi.yaml."""

import base64
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from api_helpers import ROOT, assert_contract, http_event, image_bytes, invoke, load_handler
from apicommon.store import LocalStore
from stylejobs.jobs import RUNNING, Quota, Schedule
from stylejobs.local import LocalEngine
from stylejobs.service import JobService
from synthetic import synthetic_photo

from training.model import TransformerNet
from training.runfolder import RunFolder

# Far more steps than the test waits for: it is finished early, a few checkpoints in.
LONG = Schedule(phases=((400, 32),), batch_size=2, width=4, sample_every=5, sample_size=32, style_size=64,
                checkpoint_every=3)
DEADLINE_S = 300  # a bound so that a broken worker fails the test instead of hanging it


@pytest.fixture
def stack(tmp_path, photo_dir, onnx_models_dir, monkeypatch):
    """The jobs and inference handlers as the local stack runs them, on a long tiny schedule."""
    base = tmp_path / "base.pth"  # a two-style network stands in for the bundled one
    torch.save({"model": TransformerNet(2, 4).state_dict(), "config": {"style_ids": ["one", "two"]}}, base)
    jobs_dir = tmp_path / "jobs"
    for name, value in {"JOBS_ENGINE": "local", "JOBS_AUTH": "none", "JOBS_DIR": str(jobs_dir),
                        "TRAINING_PHOTOS": str(photo_dir), "USER_STYLES_DIR": str(jobs_dir),
                        "MODELS_DIR": str(onnx_models_dir)}.items():
        monkeypatch.setenv(name, value)
    jobs = load_handler("lambda_jobs")
    jobs.SERVICE.engine.stop()  # the module's own worker runs the default schedule; this test's is tiny
    store = LocalStore(jobs_dir)
    engine = LocalEngine(store, photos=photo_dir, base_network=base, vgg_weights="random", schedule=LONG,
                         poll_s=0.1)
    jobs.SERVICE = JobService(store, engine, Quota(active=3, stored=5))
    yield jobs, load_handler("lambda_inference")
    jobs.SERVICE.engine.stop()


def call(module, method, path, body=None, template=None):
    status, headers, payload = invoke(module, http_event(method, path, body))
    assert_contract(template or path, method, status, headers, payload)
    return status, payload


def finish(jobs, job_id):
    return call(jobs, "POST", f"/jobs/{job_id}/finish", template="/jobs/{id}/finish")


def new_job(jobs, name="Early"):
    painting = base64.b64encode(image_bytes(96, 72, "PNG", seed=4)).decode()
    return call(jobs, "POST", "/styles", {"name": name, "image": painting})[1]


def wait_for(ready, what):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if found := ready():
            return found
        time.sleep(0.2)
    raise AssertionError(f"never got there: {what}")


def test_a_running_job_finished_after_its_first_checkpoint_is_a_usable_style(stack):
    jobs, inference = stack
    job = new_job(jobs)
    run = RunFolder(jobs.SERVICE.store.path(f"jobs/{job['id']}/run"))
    jobs.SERVICE.engine.start()

    def checkpointed():
        view = call(jobs, "GET", f"/jobs/{job['id']}", template="/jobs/{id}")[1]
        return view if view["progress"]["checkpoint_step"] else None

    assert wait_for(checkpointed, "a first checkpoint")["progress"]["checkpoint_step"] % 3 == 0

    status, finishing = finish(jobs, job["id"])
    assert status == 202 and finishing["finish_requested"] and not finishing["cancel_requested"]
    assert finishing["state"] == "running" and finishing["finished_early_at_step"] is None
    status, again = finish(jobs, job["id"])  # asked twice: the same answer, nothing more happens
    assert status == 202 and again["finish_requested"] and again["state"] in ("running", "done")

    def done():
        view = call(jobs, "GET", f"/jobs/{job['id']}", template="/jobs/{id}")[1]
        assert view["state"] in ("running", "done"), view["error"]
        return view if view["state"] == "done" else None

    finished = wait_for(done, "the finished job")
    step = finished["finished_early_at_step"]
    assert 3 <= step < 400 and finished["progress"]["total_steps"] == 400
    assert finished["style"] == f"user-{job['id']}" and finished["model"]["styles"][-1] == finished["style"]
    card = json.loads(jobs.SERVICE.store.get(f"jobs/{job['id']}/run/model/{finished['style']}.json"))
    assert card["training"]["steps"] == step  # exported from the checkpoint the trainer saved on stopping
    assert max(int(p.stem.split("_")[1]) for p in run.saved_checkpoints()) == step  # the furthest one

    photo = base64.b64encode(image_bytes(48, 40, seed=8)).decode()
    status, result = call(inference, "POST", "/stylize", {"image": photo, "style": finished["style"], "format": "png"})
    assert status == 200 and (result["width"], result["height"]) == (48, 40)
    assert finish(jobs, job["id"])[1]["state"] == "done"  # still the same answer once done
    status, body = call(jobs, "DELETE", f"/jobs/{job['id']}", template="/jobs/{id}")
    assert status == 409 and body["error"]["code"] == "job_not_running"


def test_a_job_without_a_checkpoint_or_not_running_cannot_be_finished(stack):
    jobs, _ = stack  # the worker is not started: the job stays where the test puts it
    job = new_job(jobs, "Too soon")
    status, body = finish(jobs, job["id"])
    assert status == 409 and body["error"]["code"] == "job_not_running"  # queued
    record = jobs.SERVICE.load("local", job["id"])
    record.state = RUNNING
    jobs.SERVICE.save(record)
    status, body = finish(jobs, job["id"])
    assert status == 409 and body["error"]["code"] == "no_checkpoint_yet" and "first checkpoint" in \
        body["error"]["message"]
    view = call(jobs, "GET", f"/jobs/{job['id']}", template="/jobs/{id}")[1]
    assert not view["finish_requested"] and view["progress"]["checkpoint_step"] is None
    assert call(jobs, "DELETE", f"/jobs/{job['id']}", template="/jobs/{id}")[1]["cancel_requested"]
    status, body = finish(jobs, job["id"])  # being cancelled: what it learned is being discarded
    assert status == 409 and body["error"]["code"] == "job_stopping"
    status, body = finish(jobs, "a" * 26)
    assert status == 404 and body["error"]["code"] == "unknown_job"


def test_a_finish_reaches_the_job_as_its_marker_and_a_cancel_takes_it_back(stack):
    jobs, _ = stack  # the worker is not started: the record and the run folder are the test's
    job = new_job(jobs, "Changed my mind")
    record = jobs.SERVICE.load("local", job["id"])
    record.state = RUNNING
    jobs.SERVICE.save(record)
    jobs.SERVICE.store.put(f"jobs/{job['id']}/run/checkpoints/step_000006.pth", b"saved")
    jobs.SERVICE.store.put(f"jobs/{job['id']}/run/checkpoints/step_000009.pth.tmp", b"being written")
    view = call(jobs, "GET", f"/jobs/{job['id']}", template="/jobs/{id}")[1]
    assert view["progress"]["checkpoint_step"] == 6
    marker = RunFolder(jobs.SERVICE.store.path(f"jobs/{job['id']}/run")).finish_request
    assert finish(jobs, job["id"])[0] == 202 and marker.exists()  # training/job.py exports when it sees it
    status, body = call(jobs, "DELETE", f"/styles/user-{job['id']}", template="/styles/{id}")
    assert status == 409 and body["error"]["code"] == "job_stopping"
    assert call(jobs, "DELETE", f"/jobs/{job['id']}", template="/jobs/{id}")[1]["cancel_requested"]
    assert not marker.exists()  # a cancel while finishing stops the export too: what it learned is discarded


# ------------------------------------------------------------------------------------ training/job.py
def job_command(tmp_path, photo_dir, *extra):
    painting = tmp_path / "painting.png"
    synthetic_photo(64, 48, seed=3).save(painting)
    return [sys.executable, "-m", "training.job", "--painting", str(painting), "--dataset", str(photo_dir),
            "--run", str(tmp_path / "run"), "--style-id", "user-" + "b" * 26, "--name", "Stopped",
            "--phases", "400@32", "--width", "4", "--batch-size", "2", "--style-size", "64",
            "--checkpoint-every", "3", "--sample-every", "50", "--sample-size", "32", "--vgg-weights", "random",
            "--device", "cpu", "--workers", "0", *extra]


def start_job(command, env):
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_the_training_job_exports_on_sigterm_when_told_to_and_at_once_when_finish_was_asked(tmp_path, photo_dir):
    model_dir = tmp_path / "sagemaker_model"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, (ROOT, ROOT / "lambda_inference"))),
           "SM_MODEL_DIR": str(model_dir)}
    run = RunFolder(tmp_path / "run")
    process = start_job(job_command(tmp_path, photo_dir, "--on-stop", "export"), env)
    wait_for(lambda: run.saved_checkpoints() or process.poll() is not None, "a first checkpoint")
    process.send_signal(signal.SIGTERM)  # SageMaker's StopTrainingJob: it cannot say whether to finish or cancel
    log = process.communicate(timeout=DEADLINE_S)[0]
    assert process.returncode == 130, log  # not a finish: the run would resume from its checkpoint
    step = run.furthest()[0]
    style = "user-" + "b" * 26
    card = json.loads((model_dir / f"{style}.json").read_text())  # what SageMaker uploads for a Stopped job
    assert 3 <= step < 400 and card["training"]["steps"] == step
    assert (model_dir / f"{style}.onnx").read_bytes() == (run.path / "model" / f"{style}.onnx").read_bytes()

    for path in (run.path / "model").iterdir():
        path.unlink()
    run.finish_request.touch()  # asked to finish while it was not running: the next start exports at once
    started = time.monotonic()
    done = subprocess.run(job_command(tmp_path, photo_dir), cwd=ROOT, env={**env, "SM_MODEL_DIR": ""},
                          capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "phase to step" not in done.stdout and f"exporting the checkpoint of step {step}" in done.stdout
    assert json.loads((run.path / "model" / f"{style}.json").read_text())["training"]["steps"] == step
    print(f"export of a step-{step} checkpoint as a job: {time.monotonic() - started:.1f} s")


def test_the_jobs_function_reads_the_run_folder_by_the_trainers_names():
    from stylejobs import progress

    from training import runfolder

    assert (progress.CHECKPOINTS, progress.FINAL) == (runfolder.CHECKPOINTS, runfolder.FINAL)
