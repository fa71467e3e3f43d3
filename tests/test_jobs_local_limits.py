"""The local stack's jobs under pressure, without training anything: simultaneous POST /styles get exactly the
quota (each request through its own handler, as separate processes or Lambda instances would), and the worker
outlives any one job (a name the OS cannot pass as an argument, a record deleted under it)."""

import base64
import json
import sys
import threading
import time

import pytest
from api_helpers import assert_contract, http_event, image_bytes, invoke, load_handler
from apicommon.store import LocalStore
from apicommon.userstyles import model_prefix, record_key, style_id_of
from stylejobs.jobs import Job
from stylejobs.local import LocalEngine


@pytest.fixture
def local_env(tmp_path, monkeypatch):
    monkeypatch.setenv("JOBS_ENGINE", "local")
    monkeypatch.setenv("JOBS_AUTH", "none")
    monkeypatch.setenv("JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("TRAINING_PHOTOS", str(tmp_path / "photos"))
    monkeypatch.setenv("TRAINER_PYTHON", sys.executable)  # available, never run: each worker is stopped
    return tmp_path / "jobs"


def handlers(count):
    loaded = [load_handler("lambda_jobs") for _ in range(count)]
    for module in loaded:
        module.SERVICE.engine.stop()  # the jobs stay queued: no trainer runs in these tests
    return loaded


def post_together(modules):
    barrier, results = threading.Barrier(len(modules)), [None] * len(modules)
    image = base64.b64encode(image_bytes(96, 72, "PNG", seed=4)).decode()

    def post(i):
        barrier.wait()
        status, headers, body = invoke(modules[i], http_event("POST", "/styles", {"name": f"Race {i}", "image": image}))
        assert_contract("/styles", "POST", status, headers, body)
        results[i] = (status, body)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(modules))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_simultaneous_posts_get_exactly_the_quota(local_env, monkeypatch):
    monkeypatch.setenv("JOBS_MAX_ACTIVE", "1")
    results = post_together(handlers(8))
    assert sorted(status for status, _ in results) == [202] + [429] * 7
    assert {body["error"]["code"] for status, body in results if status == 429} == {"too_many_jobs"}
    assert len(list((local_env / "users" / "local").glob("*.json"))) == 1


def test_the_stack_cap_holds_for_simultaneous_posts(local_env, monkeypatch):
    monkeypatch.setenv("JOBS_MAX_ACTIVE", "10")  # more than the requests: a request that loses a race for one
    # of its user's slots tries the next, and only the stack's cap can refuse it
    monkeypatch.setenv("JOBS_MAX_TRAINING", "2")
    results = post_together(handlers(6))
    assert sorted(status for status, _ in results) == [202, 202, 503, 503, 503, 503]
    assert {body["error"]["code"] for status, body in results if status == 503} == {"training_busy"}


class InstantTrainer(LocalEngine):
    """Runs a stand-in for the trainer that writes the style's card at once: a job that starts is done."""

    def command(self, job: Job) -> list:
        card = self.store.path(model_prefix(job.id) + f"{style_id_of(job.id)}.json")
        script = "import pathlib, sys; p = pathlib.Path(sys.argv[1]); p.parent.mkdir(parents=True); p.write_text('{}')"
        return [self.python, "-c", script, str(card), "--name", job.name]


def test_the_worker_outlives_a_job_it_cannot_start(tmp_path):
    """Records from before names were checked (or written by hand): the worker fails those jobs and goes on."""
    store = LocalStore(tmp_path / "jobs")
    names = ["nul \x00 in it", "lone \ud800 surrogate", "fine"]
    jobs = [Job(id=chr(ord("a") + i) * 26, owner="local", name=name, total_steps=1, created_at=1000.0 + i)
            for i, name in enumerate(names)]
    for job in jobs:
        store.put(record_key("local", job.id), json.dumps(job.to_dict()).encode())
    engine = InstantTrainer(store, photos=tmp_path, python=sys.executable, poll_s=0.05).start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [json.loads(store.get(record_key("local", job.id)))["state"] for job in jobs]
            if states[-1] == "done":
                break
            time.sleep(0.1)
        assert states == ["failed", "failed", "done"]
        failed = json.loads(store.get(record_key("local", jobs[0].id)))
        assert failed["error"] == "the trainer could not be started for this job"
        assert engine._thread.is_alive()
    finally:
        engine.stop()


def test_the_worker_skips_a_record_deleted_while_it_reads_the_queue(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "jobs")
    job = Job(id="b" * 26, owner="local", name="fine", total_steps=1)
    store.put(record_key("local", job.id), json.dumps(job.to_dict()).encode())
    listing = store.list
    monkeypatch.setattr(store, "list", lambda prefix: listing(prefix) + ["users/local/" + "c" * 26 + ".json"])
    engine = InstantTrainer(store, photos=tmp_path, python=sys.executable, poll_s=0.05).start()
    try:
        deadline = time.monotonic() + 60
        while json.loads(store.get(record_key("local", job.id)))["state"] != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(store.get(record_key("local", job.id)))["state"] == "done"
    finally:
        engine.stop()
