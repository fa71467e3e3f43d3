"""The local engine of `make dev`: a worker thread that runs one job at a time as a subprocess
(`python -m training.job`, the project's trainer then its exporter) on this machine's CPU.

Jobs wait in their records (state queued, oldest first). The records are files, so jobs and their state
survive a restart of the local stack: a job found `running` at start was cut off, and is queued again;
its run resumes from its last checkpoint (the trainer saves one on SIGTERM, and every few steps).
Cancelling a running job sends the trainer SIGTERM; stopping the stack does the same and leaves the job
queued. Finishing one early ("Use it now") first writes the run folder's finish marker, so that the job exports
its furthest checkpoint after the trainer has saved it, and ends done. If the stack dies without stopping it,
the child gets SIGTERM from the kernel (PR_SET_DEATHSIG)."""

import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from apicommon.userstyles import model_prefix, painting_key, record_key, run_prefix, style_id_of

from training.job import die_with_parent  # the local stack runs from the checkout (training/ on sys.path)
from training.runfolder import FINISH

from .failures import failure_sentence
from .jobs import CANCELLED, FAILED, QUEUED, RUNNING, Job, JobError, Schedule, command_line, job_arguments

ROOT = Path(__file__).resolve().parents[2]  # the checkout: training/, export/, lambda_inference/
PYTHONPATH = [ROOT, ROOT / "lambda_inference", ROOT / "layers" / "common" / "python", ROOT / "lambda_jobs"]
LOG_FILE = "job.log"
CPU_SCHEDULE = Schedule()  # small crops first: a preview in minutes on a laptop CPU
LOG = logging.getLogger(__name__)


class LocalEngine:
    kind = "local"

    def __init__(self, store, *, photos, base_network=None, vgg_weights="torchvision", sample_photo=None,
                 schedule: Schedule = CPU_SCHEDULE, python: str | None = None, device: str = "cpu",
                 poll_s: float = 0.5):
        self.store, self.schedule, self.device, self.poll_s = store, schedule, device, poll_s
        self.photos, self.base_network, self.vgg_weights, self.sample_photo = photos, base_network, vgg_weights, \
            sample_photo
        self.python = python or (sys.executable if importlib.util.find_spec("torch") else None)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._process = None
        self._thread = None

    # ------------------------------------------------------------------------------- engine API
    def check_available(self):
        if not self.python:
            raise JobError("training_unavailable", "Training needs PyTorch, which this local stack's Python "
                           "does not have: run `make dev-train` (installs the training packages), not `make dev`.")

    @property
    def total_steps(self) -> int:
        return self.schedule.total_steps

    def submit(self, job: Job) -> None:
        self._wake.set()

    def refresh(self, job: Job) -> bool:
        return False  # the worker writes the record itself

    def cancel(self, job: Job) -> None:
        self._finish_marker(job).unlink(missing_ok=True)  # a cancel while finishing stops the export too
        self._terminate(job)

    def finish(self, job: Job) -> None:
        """The job exports what it has learned: now if it runs, else as soon as it starts (training/job.py)."""
        marker = self._finish_marker(job)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        self._terminate(job)

    def _finish_marker(self, job: Job) -> Path:
        return self.store.path(run_prefix(job.id) + FINISH)

    def _terminate(self, job: Job) -> None:
        process = self._process
        if process is not None and process.job_id == job.id:
            process.send_signal(signal.SIGTERM)  # the trainer saves a checkpoint and exits 130

    # ----------------------------------------------------------------------------------- worker
    def start(self) -> "LocalEngine":
        with self.store.lock:
            for job in self._jobs():
                if job.state == RUNNING:  # cut off by a restart: queue it again, to resume
                    job.state = QUEUED
                    self._save(job)
        self._thread = threading.Thread(target=self._work, name="style-jobs", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        """Stop the running job (it is queued again, and resumes at the next start) and the worker."""
        self._stopping.set()
        self._wake.set()
        process = self._process
        if process is not None:
            process.send_signal(signal.SIGTERM)
        if self._thread is not None:
            self._thread.join(timeout)

    def _jobs(self) -> list:
        jobs = []
        for key in self.store.list("users/"):
            data = self.store.get(key) if key.endswith(".json") else None
            try:  # None: deleted between the listing and now; an unreadable record is not a job to run
                jobs.append(Job.from_dict(json.loads(data)))
            except (TypeError, ValueError):
                continue
        return jobs

    def _save(self, job: Job) -> None:
        self.store.put(record_key(job.owner, job.id), json.dumps(job.to_dict()).encode())

    def _next(self) -> Job | None:
        with self.store.lock:
            queued = sorted((job for job in self._jobs() if job.state == QUEUED and not job.cancel_requested),
                            key=lambda job: job.created_at)
            if not queued:
                return None
            job = queued[0]
            job.state = RUNNING
            job.started_at = job.started_at or time.time()
            self._save(job)
            return job

    def _work(self):
        while not self._stopping.is_set():
            try:
                job = self._next()
            except Exception:  # noqa: BLE001 - the queue could not be read now: look again, never stop working
                LOG.exception("style jobs: reading the queue failed")
                job = None
            if job is None:
                self._wake.wait(self.poll_s * 4)
                self._wake.clear()
                continue
            try:
                code = self._run(job)
            except Exception:  # noqa: BLE001 - one job's failure is that job's: it fails, the worker goes on
                LOG.exception("style job %s: the trainer could not be started", job.id)
                code = None
            with self.store.lock:
                data = self.store.get(record_key(job.owner, job.id))
                if data is None:  # deleted meanwhile
                    continue
                job = Job.from_dict(json.loads(data))
                self._settle(job, code)
                self._save(job)

    def _settle(self, job: Job, code: int | None) -> None:
        card = self.store.path(model_prefix(job.id) + f"{style_id_of(job.id)}.json")
        if job.cancel_requested:
            job.finish(CANCELLED)
        elif code is None:
            job.finish(FAILED, "the trainer could not be started for this job")
        elif code == 0 and card.is_file():
            job.finished_from(json.loads(card.read_text()))
        elif self._stopping.is_set():
            job.state = QUEUED  # the stack is stopping: resume at the next start
        else:
            job.finish(FAILED, failure_sentence(self._log_tail(job), code))

    def _log_tail(self, job: Job) -> str:
        """The end of the job's log: enough for the traceback's last lines, which name what stopped it."""
        return (self.store.tail(run_prefix(job.id) + LOG_FILE, 8192) or b"").decode("utf-8", "replace")

    def command(self, job: Job) -> list:
        arguments = job_arguments(
            self.schedule, painting=self.store.path(painting_key(job.id)), dataset=self.photos,
            run=self.store.path(run_prefix(job.id)), style_id=style_id_of(job.id), name=job.name,
            base_network=self.base_network or "none", vgg_weights=self.vgg_weights, sample_image=self.sample_photo,
            device=self.device, workers=0)
        return [self.python, "-m", "training.job", *command_line(arguments)]

    def _run(self, job: Job) -> int:
        run = self.store.path(run_prefix(job.id))
        run.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, PYTHONPATH)), "PYTHONUNBUFFERED": "1"}
        with open(run / LOG_FILE, "ab") as log:
            process = subprocess.Popen(self.command(job), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
            process.job_id = job.id
            self._process = process
            try:
                return process.wait()
            finally:
                self._process = None


def local_engine_from_env():
    """(store, engine) from the local stack's environment: JOBS_DIR (records and runs), TRAINING_PHOTOS,
    TRAINING_BASE_NETWORK (or none), TRAINING_VGG_WEIGHTS, TRAINING_SAMPLE_PHOTO, TRAINING_PHASES (e.g.
    400@128,200@256) and TRAINER_PYTHON (a Python with PyTorch; default: this one, if it has it)."""
    from apicommon.store import LocalStore

    from .jobs import parse_phases

    env = os.environ
    store = LocalStore(env["JOBS_DIR"])
    schedule = Schedule(phases=parse_phases(env["TRAINING_PHASES"])) if env.get("TRAINING_PHASES") else CPU_SCHEDULE
    base = env.get("TRAINING_BASE_NETWORK") or None
    engine = LocalEngine(store, photos=env["TRAINING_PHOTOS"], base_network=None if base == "none" else base,
                         vgg_weights=env.get("TRAINING_VGG_WEIGHTS", "torchvision"),
                         sample_photo=env.get("TRAINING_SAMPLE_PHOTO") or None, schedule=schedule,
                         python=env.get("TRAINER_PYTHON") or None)
    return store, engine
