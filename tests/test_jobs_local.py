"""Users' own styles on the local stack, end to end with the real trainer and exporter as
subprocesses (a width-4 network, 32-pixel crops, the random-weight loss network): a job is queued, runs,
shows a preview, is done, and its style stylizes a photo; a second job waits its turn, survives a restart of
the worker (it resumes from its checkpoint), and is cancelled. Responses are checked against openapi.yaml."""

import base64
import hashlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from api_helpers import assert_contract, http_event, image_bytes, invoke, load_handler
from apicommon.store import LocalStore
from PIL import Image
from stylecore import Stylizer
from stylejobs.jobs import Quota, Schedule
from stylejobs.local import LocalEngine
from stylejobs.service import JobService
from synthetic import synthetic_photo

from training.model import TransformerNet

# Long enough (a few seconds even with bf16 on a fast CPU) that the second job is seen running after its restart.
TINY = Schedule(phases=((60, 32),), batch_size=2, width=4, sample_every=10, sample_size=32, style_size=64,
                checkpoint_every=2)
DEADLINE_S = 300  # a bound so that a broken worker fails the test instead of hanging it


@pytest.fixture
def stack(tmp_path, photo_dir, onnx_models_dir, monkeypatch):
    """The jobs and inference handlers as the local stack runs them, on a tiny schedule."""
    base = tmp_path / "base.pth"  # a trained two-style network stands in for the bundled one
    torch.save({"model": TransformerNet(2, 4).state_dict(), "config": {"style_ids": ["one", "two"]}}, base)
    sample = tmp_path / "sample.jpg"
    synthetic_photo(40, 32, seed=11).save(sample)
    jobs_dir = tmp_path / "jobs"
    monkeypatch.setenv("JOBS_ENGINE", "local")
    monkeypatch.setenv("JOBS_AUTH", "none")
    monkeypatch.setenv("JOBS_DIR", str(jobs_dir))
    monkeypatch.setenv("TRAINING_PHOTOS", str(photo_dir))
    monkeypatch.setenv("USER_STYLES_DIR", str(jobs_dir))
    monkeypatch.setenv("MODELS_DIR", str(onnx_models_dir))
    jobs = load_handler("lambda_jobs")
    jobs.SERVICE.engine.stop()  # the module's own worker runs the default schedule; this test's is tiny

    def engine():
        return LocalEngine(store, photos=photo_dir, base_network=base, vgg_weights="random", sample_photo=sample,
                           schedule=TINY, poll_s=0.1).start()

    store = LocalStore(jobs_dir)
    jobs.SERVICE = JobService(store, engine(), Quota(active=3, stored=5))
    yield jobs, load_handler("lambda_inference"), engine
    jobs.SERVICE.engine.stop()


def call(module, method, path, body=None, template=None):
    status, headers, payload = invoke(module, http_event(method, path, body))
    assert_contract(template or path, method, status, headers, payload)
    return status, payload


def painting() -> str:
    return base64.b64encode(image_bytes(96, 72, "PNG", seed=4)).decode()


def stylize_with(onnx_file: bytes, style: str, photo: bytes) -> np.ndarray:
    """What the browser does with a model file: onnxruntime on the photo's pixels, clipped and rounded."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        path.write_bytes(onnx_file)
        rgb = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"), np.float32)
        return np.clip(Stylizer.from_file(path).for_style(style).stylize(rgb), 0, 255).round()


def wait_for(module, job_id, ready):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        _, job = call(module, "GET", f"/jobs/{job_id}", template="/jobs/{id}")
        if ready(job):
            return job
        assert job["state"] not in ("failed",), job["error"]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never got there: {job}")


def test_train_preview_use_then_restart_and_cancel_a_second_job(stack):
    jobs, inference, engine = stack
    status, first = call(jobs, "POST", "/styles", {"name": "First", "image": painting()})
    assert status == 202 and first["state"] == "queued"
    _, second = call(jobs, "POST", "/styles", {"name": "Second", "image": painting()})

    running = wait_for(jobs, first["id"], lambda job: job["state"] == "running" and job["preview"])
    assert running["preview"]["image"].startswith("data:image/jpeg;base64,") and running["progress"]["step"] >= 2
    assert running["progress"]["losses"]["total"] > 0
    waiting = call(jobs, "GET", f"/jobs/{second['id']}", template="/jobs/{id}")[1]
    assert waiting["state"] == "queued"  # one job at a time

    done = wait_for(jobs, first["id"], lambda job: job["state"] == "done")
    assert done["style"] == f"user-{first['id']}" and done["progress"]["step"] == 60 and done["preview"]["step"] == 60
    photo = base64.b64encode(image_bytes(48, 40, seed=8)).decode()
    status, result = call(inference, "POST", "/stylize", {"image": photo, "style": done["style"], "format": "png"})
    assert status == 200 and result["style"] == done["style"] and (result["width"], result["height"]) == (48, 40)
    # The same style on the device: its ONNX file, as the card says, gives the server's picture.
    model = done["model"]
    assert model["url"] == f"/jobs/{first['id']}/model" and model["file"] == f"user-{first['id']}.onnx"
    assert model["styles"] == ["one", "two", done["style"]]  # the base network's styles, joined: they blend
    status, onnx_file = call(jobs, "GET", model["url"], template="/jobs/{id}/model")
    assert status == 200 and len(onnx_file) == model["bytes"]
    assert hashlib.sha256(onnx_file).hexdigest() == model["sha256"]
    on_device = stylize_with(onnx_file, done["style"], image_bytes(48, 40, seed=8))
    served = np.asarray(Image.open(io.BytesIO(base64.b64decode(result["image"]))).convert("RGB"), np.float32)
    assert np.abs(on_device - served).max() <= 1  # rounding to 8 bits apart
    # Blended with a style of the network it was trained from; not with a style its file does not hold.
    blend = [{"style": done["style"], "weight": 3}, {"style": "one", "weight": 1}]
    status, mixed = call(inference, "POST", "/stylize", {"image": photo, "blend": blend, "format": "png"})
    assert status == 200 and mixed["blend"] == [{"style": done["style"], "weight": 0.75},
                                                 {"style": "one", "weight": 0.25}]
    assert mixed["image"] != result["image"]
    other = call(inference, "GET", "/styles")[1]["styles"][0]["id"]
    status, body = call(inference, "POST", "/stylize", {"image": photo, "format": "png", "blend": [
        {"style": done["style"], "weight": 1}, {"style": other, "weight": 1}]})
    assert status == 400 and body["error"]["code"] == "blend_across_networks" and "one, two" in body["error"]["message"]

    # The second job runs next; the local stack stops mid-run (a checkpoint is saved) and starts again.
    wait_for(jobs, second["id"], lambda job: job["state"] == "running" and job["progress"]["step"] >= 2)
    jobs.SERVICE.engine.stop()
    assert call(jobs, "GET", f"/jobs/{second['id']}", template="/jobs/{id}")[1]["state"] == "queued"
    jobs.SERVICE.engine = engine()
    resumed = wait_for(jobs, second["id"], lambda job: job["state"] == "running"
                       and b"resumed from" in jobs.SERVICE.store.tail(f"jobs/{second['id']}/run/job.log", 1 << 16))
    status, cancelling = call(jobs, "DELETE", f"/jobs/{second['id']}", template="/jobs/{id}")
    assert status == 200 and cancelling["cancel_requested"] and resumed["state"] == "running"
    cancelled = wait_for(jobs, second["id"], lambda job: job["state"] == "cancelled")
    assert cancelled["style"] is None and cancelled["model"] is None and cancelled["finished_at"]
    status, body = call(jobs, "GET", f"/jobs/{second['id']}/model", template="/jobs/{id}/model")
    assert status == 409 and body["error"]["code"] == "style_not_ready"
    status, body = call(jobs, "DELETE", f"/jobs/{second['id']}", template="/jobs/{id}")
    assert status == 409 and body["error"]["code"] == "job_not_running"
    _, listing = call(jobs, "GET", "/jobs")
    assert [(job["name"], job["state"]) for job in listing["jobs"]] == [("First", "done"), ("Second", "cancelled")]


def test_a_queued_job_cancels_at_once_and_a_deleted_style_is_gone(stack, tmp_path):
    jobs, inference, engine = stack
    jobs.SERVICE.engine.stop()  # nothing runs: every job stays queued
    _, job = call(jobs, "POST", "/styles", {"name": "Never mind", "image": painting()})
    status, cancelled = call(jobs, "DELETE", f"/jobs/{job['id']}", template="/jobs/{id}")
    assert status == 200 and cancelled["state"] == "cancelled"
    assert call(jobs, "DELETE", f"/styles/user-{job['id']}", template="/styles/{id}")[0] == 204
    status, body = call(jobs, "GET", f"/jobs/{job['id']}", template="/jobs/{id}")
    assert status == 404 and body["error"]["code"] == "unknown_job"
    assert not (tmp_path / "jobs" / "jobs" / job["id"]).exists()


def test_without_pytorch_the_local_stack_says_how_to_get_it(stack):
    jobs, _, _ = stack
    jobs.SERVICE.engine.stop()
    jobs.SERVICE.engine.python = None
    status, body = call(jobs, "POST", "/styles", {"name": "x", "image": painting()})
    assert status == 503 and body["error"]["code"] == "training_unavailable" and "make dev-train" in \
        body["error"]["message"]


def test_the_local_gateway_routes_by_method_and_path_template():
    from devserver.gateway import function_for

    functions = {"/styles": "inference", "POST /styles": "jobs", "/jobs/{id}": "jobs", "/styles/{id}": "jobs",
                 "/jobs/{id}/model": "jobs"}
    assert function_for(functions, "GET", "/styles") == "inference"
    assert function_for(functions, "POST", "/styles") == "jobs"
    assert function_for(functions, "DELETE", "/jobs/abc") == "jobs"
    assert function_for(functions, "DELETE", "/styles/user-abc") == "jobs"
    assert function_for(functions, "GET", "/jobs/abc/model") == "jobs"
    assert function_for(functions, "GET", "/jobs/abc/def") is None
