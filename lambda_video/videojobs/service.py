"""What the video routes do: create a job with its presigned upload, start it once the clip is there, report
it, cancel or delete it. Refusals are VideoJobErrors (or media.VideoErrors about the clip) with a code; the
handler maps codes to HTTP statuses.

Quotas hold under concurrent requests: a job holds one of its owner's slots and one of the stack's from
creation until it ends (apicommon.slots: conditional writes), and the minutes a user starts in a UTC day are
one object changed by compare-and-swap.
"""

import base64
import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from apicommon.slots import CLAIM_GRACE_S, Slots, release
from apicommon.userstyles import new_job_id

from . import limits, media, work
from .jobs import (
    ACTIVE,
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    STACK_SLOTS_PREFIX,
    UPLOADING,
    VideoJob,
    VideoJobError,
    load,
    minutes_key,
    now_iso,
    prefix,
    preview_key,
    record_key,
    result_key,
    save,
    source_key,
    user_slots_prefix,
)

UPLOAD_GRACE_S = 120  # an upload may finish a little after its POST's expiry


@dataclass
class Quota:
    active: int = limits.MAX_ACTIVE_PER_USER
    minutes_per_day: float = limits.MAX_MINUTES_PER_DAY
    stack_active: int = limits.MAX_ACTIVE_STACK


class VideoService:
    def __init__(self, store, engine, styles, quota: Quota | None = None, chunk_frames: int = limits.CHUNK_FRAMES):
        """store: an apicommon.store.S3Store (presigning needs S3); engine: local or Step Functions; styles:
        the registry of the styles a video may use; chunk_frames: the frames of one chunk of work."""
        self.store, self.engine, self.styles, self.quota = store, engine, styles, quota or Quota()
        self.chunk_frames = chunk_frames

    # ------------------------------------------------------------------------------------- create
    def create(self, owner: str, options: dict, size: int, content_type: str, filename: str) -> tuple:
        """A new job, uploading, and its presigned POST."""
        if content_type not in limits.CONTENT_TYPES:
            raise VideoJobError("invalid_request", "content_type must be one of " + ", ".join(limits.CONTENT_TYPES))
        if size > limits.MAX_BYTES:
            raise VideoJobError("video_too_large", f"The clip is {size / 1e6:.0f} MB; at most "
                                f"{limits.MAX_BYTES / 1e6:.0f} MB.")
        work.painter(self.styles, options)  # an unknown style or a bad blend is refused before anything is kept
        job = VideoJob(new_job_id(), owner, options, size, content_type, clean_filename(filename))
        self.claim_slots(job)
        try:
            save(self.store, job)
            upload = self.presigned_upload(job)
        except Exception:
            self.forget(job)
            raise
        return job, upload

    def claim_slots(self, job: VideoJob) -> None:
        def holds(holder: dict) -> bool:
            other = load(self.store, holder["owner"], holder["job"])
            if other is None:
                return time.time() - holder["at"] < CLAIM_GRACE_S
            return other.state in ACTIVE and not self.upload_expired(other)
        for slot_prefix, limit, message in (
                (user_slots_prefix(job.owner), self.quota.active, f"You have {self.quota.active} videos in "
                 "progress, as many as a user may: wait for one to finish, or cancel one."),
                (STACK_SLOTS_PREFIX, self.quota.stack_active, "The service is stylizing as many videos as it may "
                 "at once: try again in a few minutes.")):
            key = Slots(self.store, slot_prefix, limit).claim(job.owner, job.id, holds)
            if key is None:
                self.release_slots(job)
                raise VideoJobError("too_many_videos", message)
            job.slots.append(key)

    def presigned_upload(self, job: VideoJob) -> dict:
        key = source_key(job.owner, job.id)
        post = self.store.s3.generate_presigned_post(
            self.store.bucket, key, Fields={"Content-Type": job.content_type},
            Conditions=[{"Content-Type": job.content_type}, ["content-length-range", job.bytes, job.bytes]],
            ExpiresIn=limits.UPLOAD_EXPIRES_S)
        return {"url": post["url"], "fields": post["fields"], "max_bytes": job.bytes,
                "expires_at": now_iso(job.created_at + limits.UPLOAD_EXPIRES_S)}

    # -------------------------------------------------------------------------------------- start
    def start(self, owner: str, video_id: str) -> VideoJob:
        """The uploaded clip checked (a VideoError fails the job: its reason is the answer), planned, queued."""
        job = self.get(owner, video_id)
        if job.state != UPLOADING:
            raise VideoJobError("video_started", f"The video is {job.state} already.")
        size = self.store.size(source_key(owner, video_id))
        if size is None:
            raise VideoJobError("video_not_uploaded", "No clip has arrived for this video yet: upload it to the "
                                "presigned POST from POST /videos first.")
        try:
            source = self.checked_source(job, size)
            self.claim_minutes(job, source.duration_s)
        except (media.VideoError, VideoJobError) as error:
            self.end(job, FAILED, str(error))
            raise
        plan = media.plan_of(source, job.options.get("max_size", limits.MAX_SIZE))
        job.source, job.plan = source.public(), plan.as_record()
        job.chunks = media.chunks_of(plan.frames, self.chunk_frames)
        job.state = QUEUED
        save(self.store, job)
        try:
            self.engine.submit(job)
        except VideoJobError as error:
            self.end(job, FAILED, str(error))
            raise
        return job

    def checked_source(self, job: VideoJob, size: int) -> media.Source:
        if size > limits.MAX_BYTES or size != job.bytes:
            raise media.VideoError("video_too_large", f"The upload is {size / 1e6:.1f} MB, not the "
                                   f"{job.bytes / 1e6:.1f} MB declared (at most {limits.MAX_BYTES / 1e6:.0f} MB).")
        with tempfile.TemporaryDirectory(prefix="video-probe-") as folder:
            path = Path(folder) / "source"
            self.store.download(source_key(job.owner, job.id), path)
            source = media.probe(path, size)
        media.check_limits(source)
        return source

    def claim_minutes(self, job: VideoJob, seconds: float) -> None:
        """Count the clip against its owner's minutes of the UTC day, atomically (compare-and-swap)."""
        day = time.strftime("%Y-%m-%d", time.gmtime())
        key, allowed = minutes_key(job.owner, day), self.quota.minutes_per_day * 60
        for _ in range(20):
            current = self.store.get_tagged(key)
            used = json.loads(current[0]) if current else {}
            if sum(used.values()) + seconds > allowed:
                left = max(0.0, allowed - sum(used.values()))
                raise VideoJobError("video_minutes", f"This clip is {seconds:.0f} s; {left:.0f} s of today's "
                                    f"{self.quota.minutes_per_day:g} minutes of video are left (they renew at "
                                    "00:00 UTC).")
            used[job.id] = round(seconds, 3)
            if self.store.put_if(key, json.dumps(used).encode(), current[1] if current else None):
                job.minutes_day = day
                return
        raise VideoJobError("video_unavailable", "Too many requests at once: try again.")

    def refund_minutes(self, job: VideoJob) -> None:
        if job.minutes_day is None:
            return
        key = minutes_key(job.owner, job.minutes_day)
        for _ in range(20):
            current = self.store.get_tagged(key)
            used = json.loads(current[0]) if current else {}
            if used.pop(job.id, None) is None or self.store.put_if(key, json.dumps(used).encode(), current[1]):
                return

    # ---------------------------------------------------------------------------- read, cancel, delete
    def get(self, owner: str, video_id: str) -> VideoJob:
        job = load(self.store, owner, video_id)
        if job is None:
            raise VideoJobError("unknown_video", "No video of yours has that id.")
        if job.state == UPLOADING and self.upload_expired(job):
            self.end(job, FAILED, "The clip was not uploaded in time: start again.")
        return job

    @staticmethod
    def upload_expired(job: VideoJob) -> bool:
        return job.state == UPLOADING and time.time() > job.created_at + limits.UPLOAD_EXPIRES_S + UPLOAD_GRACE_S

    def delete(self, owner: str, video_id: str) -> VideoJob | None:
        """Cancel an active job (it is returned, cancelled), or delete a finished one with its files (None)."""
        job = self.get(owner, video_id)
        if job.state in ACTIVE:
            if job.state in (QUEUED, RUNNING):
                self.engine.cancel(job)
            if job.state != RUNNING:
                self.refund_minutes(job)
            self.end(job, CANCELLED, None)
            return job
        self.store.delete_prefix(prefix(owner, video_id))
        self.store.delete(record_key(owner, video_id))
        return None

    def end(self, job: VideoJob, state: str, error: str | None) -> None:
        with self.store.lock:
            current = load(self.store, job.owner, job.id) or job
            if current.state in (DONE, FAILED, CANCELLED):
                job.__dict__.update(current.__dict__)
                return
            job.state, job.error, job.finished_at = state, error, time.time()
            save(self.store, job)
        self.release_slots(job)
        work.delete_working_files(self.store, job.owner, job.id)
        self.store.delete_prefix(prefix(job.owner, job.id) + "progress/")

    def release_slots(self, job: VideoJob) -> None:
        for key in job.slots:
            release(self.store, key, job.id)

    def forget(self, job: VideoJob) -> None:
        self.release_slots(job)
        self.store.delete(record_key(job.owner, job.id))

    # --------------------------------------------------------------------------------------- views
    def view(self, job: VideoJob) -> dict:
        frames_done = job.frames_total if job.state == DONE else work.progress_of(self.store, job.owner, job.id)[0]
        return {"id": job.id, "state": job.state, "created_at": now_iso(job.created_at),
                "started_at": now_iso(job.started_at) if job.started_at else None,
                "finished_at": now_iso(job.finished_at) if job.finished_at else None,
                "options": job.options, "source": job.source, "frames_done": frames_done or 0,
                "frames_total": job.frames_total, "seconds_left": self.seconds_left(job, frames_done or 0),
                "preview": self.preview(job), "result": self.result(job), "error": job.error}

    @staticmethod
    def seconds_left(job: VideoJob, frames_done: int) -> float | None:
        if job.state != RUNNING or not frames_done or not job.started_at:
            return None
        rate = frames_done / max(1e-3, time.time() - job.started_at)
        return round((job.frames_total - frames_done) / rate, 1)

    def preview(self, job: VideoJob) -> str | None:
        if job.state not in (RUNNING, DONE):
            return None
        data = self.store.get(preview_key(job.owner, job.id))
        return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii") if data else None

    def result(self, job: VideoJob) -> dict | None:
        if job.state != DONE or not job.result:
            return None
        key = result_key(job.owner, job.id)
        style = job.options.get("style") or "blend"
        name = f"{Path(job.filename).stem or 'video'}-{style}.mp4"
        sign = self.store.s3.generate_presigned_url
        params = {"Bucket": self.store.bucket, "Key": key, "ResponseContentType": "video/mp4"}
        return {"url": sign("get_object", Params=params, ExpiresIn=limits.RESULT_URL_EXPIRES_S),
                "download_url": sign("get_object", Params={
                    **params, "ResponseContentDisposition": f'attachment; filename="{name}"'},
                    ExpiresIn=limits.RESULT_URL_EXPIRES_S), **job.result}


def clean_filename(filename) -> str:
    """A file name as data: its base name, ASCII letters, digits, dot, dash and underscore only (it ends up in a
    Content-Disposition header), at most 80 characters."""
    if not isinstance(filename, str):
        return ""
    base = re.split(r"[\\/]", filename)[-1]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")[:80]
