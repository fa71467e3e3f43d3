"""What the jobs routes do, over a store (records and files) and an engine (what runs the jobs).

Every operation names the owner: a job is found under its owner's records only, so another user's job id is
as unknown as one that never existed (unknown_job either way: nothing says which)."""

import json
import time
from datetime import UTC, datetime

from apicommon.slots import CLAIM_GRACE_S, Slots, release
from apicommon.userstyles import (
    is_job_id,
    job_id_of,
    job_prefix,
    model_prefix,
    new_job_id,
    owner_prefix,
    painting_key,
    record_key,
    style_id_of,
)
from stylecore.modelfiles import without_paths

from .jobs import CANCELLED, DONE, QUEUED, RUNNING, Job, JobError, Quota, check_name
from .painting import normalise_painting
from .progress import has_checkpoint, last_checkpoint_step, read_preview, read_progress
from .slots import STACK_SLOTS_PREFIX, user_slots_prefix

DEFAULT_QUOTA = Quota()


def iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds") if timestamp else None


class JobService:
    def __init__(self, store, engine, quota: Quota = DEFAULT_QUOTA):
        self.store, self.engine, self.quota = store, engine, quota

    # ------------------------------------------------------------------------------------ records
    def load(self, owner: str, job_id) -> Job:
        if not is_job_id(job_id):
            raise JobError("unknown_job", "No such job (job ids are 26 letters and digits, from POST /styles).")
        data = self.store.get(record_key(owner, job_id))
        if data is None:
            raise JobError("unknown_job", f"No job {job_id!r} of yours: it never existed, was deleted, or "
                           "has expired.")
        return Job.from_dict(json.loads(data))

    def save(self, job: Job) -> None:
        self.store.put(record_key(job.owner, job.id), json.dumps(job.to_dict()).encode(), "application/json")

    def jobs_of(self, owner: str) -> list:
        jobs = []
        for key in self.store.list(owner_prefix(owner)):
            data = self.store.get(key) if key.endswith(".json") else None
            if data is not None:  # None: deleted between the listing and now
                jobs.append(Job.from_dict(json.loads(data)))
        return sorted((self.refreshed(job) for job in jobs), key=lambda job: job.created_at)

    def refreshed(self, job: Job) -> Job:
        """The record brought up to date with the engine (a SageMaker job's status); saved when it changed."""
        if job.active:
            with self.store.lock:
                if self.engine.refresh(job):
                    self.save(job)
        return job

    # ---------------------------------------------------------------------------------- operations
    def submit(self, owner: str, name, painting: bytes) -> Job:
        name = check_name(name)
        self.engine.check_available()
        job = Job(id=new_job_id(), owner=owner, name=name, total_steps=self.engine.total_steps)
        try:
            self.claim_slots(job)
            jobs = self.jobs_of(owner)
            if len(jobs) >= self.quota.stored:
                raise JobError("too_many_jobs", f"You have {len(jobs)} styles and jobs, the most kept per user; "
                               "delete one first (DELETE /styles/{id} or DELETE /jobs/{id}).")
            png, job.thumbnail = normalise_painting(painting)
            self.store.put(painting_key(job.id), png, "image/png")
            with self.store.lock:
                self.save(job)
            self.engine.submit(job)  # the engine may set its handle in the record
            with self.store.lock:
                self.save(job)
        except BaseException:
            self.discard(job)  # whatever failed, nothing is left behind: no record, no files, no slot held
            raise
        return job

    def claim_slots(self, job: Job) -> None:
        """One of the owner's slots, then one of the stack's, each taken atomically (apicommon.slots)."""
        mine = Slots(self.store, user_slots_prefix(job.owner), self.quota.active)
        key = mine.claim(job.owner, job.id, self.holds)
        if key is None:
            raise JobError("too_many_jobs", f"You have {self.quota.active} jobs queued or running, the most at "
                           "once; wait for one to finish, or cancel one (DELETE /jobs/{id}).")
        job.slots.append(key)
        key = Slots(self.store, STACK_SLOTS_PREFIX, self.quota.stack_active).claim(job.owner, job.id, self.holds)
        if key is None:
            raise JobError("training_busy", f"This service is training as many styles as it may at once "
                           f"({self.quota.stack_active}); try again in a while.")
        job.slots.append(key)

    def holds(self, holder: dict) -> bool:
        """Whether the job a slot names still holds it: it is queued or running, or it is being submitted."""
        try:
            job = self.load(holder["owner"], holder["job"])
        except JobError:  # no record: being saved by its request now, or gone
            return time.time() - holder["at"] < CLAIM_GRACE_S
        return self.refreshed(job).active

    def discard(self, job: Job) -> None:
        """A job that was not started: its record, files and slots."""
        if job.engine.get("name"):  # started, then its record could not be saved: stop it, it has no owner
            try:
                self.engine.cancel(job)
            except Exception:  # noqa: BLE001 - the error that got us here is the one to report
                pass
        self.store.delete(record_key(job.owner, job.id))
        self.store.delete_prefix(job_prefix(job.id))
        for key in job.slots:
            release(self.store, key, job.id)

    def get(self, owner: str, job_id) -> Job:
        return self.refreshed(self.load(owner, job_id))

    def cancel(self, owner: str, job_id) -> Job:
        with self.store.lock:
            job = self.refreshed(self.load(owner, job_id))
            if not job.active:
                raise JobError("job_not_running", f"The job is {job.state}, not queued or running: nothing to "
                               "cancel." + (" DELETE /styles/{id} deletes its style." if job.state == DONE else ""))
            if job.cancel_requested:
                return job
            job.cancel_requested = True
            if job.state == QUEUED and not job.engine.get("name"):
                job.finish(CANCELLED)  # never started: nothing to stop
            else:
                self.engine.cancel(job)  # the engine stops it; its state follows (cancelled) when it has
            self.save(job)
        return job

    def finish(self, owner: str, job_id) -> Job:
        """"Use it now": a running job stops training and its furthest checkpoint becomes its style (the job ends
        `done`). Asking again while it finishes, or after, changes nothing."""
        with self.store.lock:
            job = self.refreshed(self.load(owner, job_id))
            if job.finish_requested and not job.cancel_requested:
                return job
            self.check_finishable(job)
            job.finish_requested = True
            self.engine.finish(job)  # the engine stops it; its state follows (done) when its style is exported
            self.save(job)
        return job

    def check_finishable(self, job: Job) -> None:
        if job.cancel_requested:
            raise JobError("job_stopping", "The job is being cancelled: what it learned is being discarded.")
        if job.state != RUNNING:
            raise JobError("job_not_running", f"The job is {job.state}, not running: only a running job can be "
                           "finished early.")
        if not has_checkpoint(self.store, job.id):
            raise JobError("no_checkpoint_yet", "The job has not saved its first checkpoint yet: there is nothing "
                           "to use so far. Try again in a minute.")

    def model_card(self, job: Job) -> dict | None:
        """A finished job's exported model card (its model's file name, bytes and sha256), or None."""
        data = self.store.get(f"{model_prefix(job.id)}{style_id_of(job.id)}.json") if job.state == DONE else None
        return json.loads(data) if data else None

    def model_file(self, owner: str, job_id) -> tuple[bytes, dict]:
        """(the ONNX file, its card's `model` entry) of a finished job's style: what a browser runs on the device."""
        job = self.get(owner, job_id)
        card = self.model_card(job)
        data = card and self.store.get(model_prefix(job.id) + card["model"]["file"])
        if not data:
            raise JobError("style_not_ready", f"The job is {job.state}: only a done job's style has a model "
                           "file.")
        return data, card["model"]

    def delete_style(self, owner: str, style_id) -> None:
        """A finished (or failed, or cancelled) job and everything it made: record, painting, run, style."""
        job_id = job_id_of(style_id) or style_id
        with self.store.lock:
            job = self.refreshed(self.load(owner, job_id))
            if job.active and (job.cancel_requested or job.finish_requested):
                # its instance is still stopping and writing to the job's files: they would come back
                raise JobError("job_stopping", "The job is still stopping (cancelled or finishing, its last files "
                               "are being written); try again in a minute.")
            if job.active:
                raise JobError("job_running", "The job is still running: cancel it first (DELETE /jobs/{id}).")
            self.store.delete_prefix(job_prefix(job.id))
            self.store.delete(record_key(owner, job.id))
            for key in job.slots:  # free already (the job is finished); released so that no grace applies
                release(self.store, key, job.id)

    # -------------------------------------------------------------------------------------- views
    def model_view(self, job: Job) -> dict | None:
        """Where a done job's model file is (GET /jobs/{id}/model), with its size and sha256 for the device, and
        the styles it holds in the order of its style_weights input: the base network's, which the new style
        blends with (export --join), then its own; empty for a file of one style."""
        card = self.model_card(job)
        if not card:
            return None
        model = card["model"]
        return {"file": model["file"], "bytes": model["bytes"], "sha256": model["sha256"],
                "precision": model.get("precision", "fp32"), "url": f"/jobs/{job.id}/model",
                "styles": [s["id"] for s in card.get("styles", [])]}

    def view(self, job: Job, detail: bool = True) -> dict:
        """A job as the API shows it (openapi.yaml, Job)."""
        elapsed = None
        if job.started_at:
            elapsed = round((job.finished_at or time.time()) - job.started_at, 1)
        view = {"id": job.id, "name": job.name, "state": job.state, "created_at": iso(job.created_at),
                "started_at": iso(job.started_at), "finished_at": iso(job.finished_at),
                "cancel_requested": job.cancel_requested, "finish_requested": job.finish_requested,
                "finished_early_at_step": job.finished_early_at_step, "thumbnail": job.thumbnail,
                "style": style_id_of(job.id) if job.state == DONE else None,
                "model": self.model_view(job), "error": without_paths(job.error)}  # a trainer's or SageMaker's words
        if detail:
            status = read_progress(self.store, job.id, job.total_steps, self.engine.schedule.batch_size, elapsed)
            if job.state == QUEUED and status["step"]:
                status["eta_s"] = None  # waiting to resume: the last speed says nothing about when
            # what "Use it now" would keep at least (the web app offers it from the first checkpoint on)
            status["checkpoint_step"] = last_checkpoint_step(self.store, job.id) if job.state == RUNNING else None
            view["progress"] = status
            view["preview"] = read_preview(self.store, job.id) if job.state in (RUNNING, DONE) or status["step"] \
                else None
        return view
