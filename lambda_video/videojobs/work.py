"""The work of a video job in four steps, the same code for the local worker (one after another) and the AWS
workflow (one Lambda function each, the chunks in parallel under a Distributed Map):

    begin(store, owner, id)                       the job is running; its chunks
    stylize_chunk(store, styles, owner, id, chunk, folder)   one chunk: decoded, stylized, encoded, stored
    finish(store, owner, id, folder)              the chunks joined with the sound: the result; the job done
    fail(store, owner, id, reason)                the job failed, with a reason a person can read

A step of a job that was cancelled meanwhile stops (Cancelled) and leaves the record as it is. Progress is one
small object per chunk (frames done, seconds taken), written every PROGRESS_EVERY_S, so parallel chunks never
write the same object and the API adds them up.
"""

import io
import json
import time
from pathlib import Path

import numpy as np
import stylecore
from PIL import Image

from . import media
from .jobs import (
    CANCELLED,
    DONE,
    FAILED,
    RUNNING,
    chunk_key,
    load,
    prefix,
    preview_key,
    progress_key,
    result_key,
    save,
    source_key,
)

PROGRESS_EVERY_S = 1.0
CANCEL_CHECK_EVERY_S = 2.0
PREVIEW_SIDE = 320


class Cancelled(Exception):
    """The job was cancelled (or deleted) while a step ran."""


class Stopped(Exception):
    """The worker is stopping (the local stack is): the job stays running in its record, to resume."""


def job_for_work(store, owner: str, video_id: str):
    job = load(store, owner, video_id)
    if job is None or job.state in (CANCELLED, FAILED, DONE):
        raise Cancelled(video_id)
    return job


def begin(store, owner: str, video_id: str) -> list:
    job = job_for_work(store, owner, video_id)
    with store.lock:
        job.state, job.started_at = RUNNING, job.started_at or time.time()
        save(store, job)
    return job.chunks


def painter(styles, options: dict):
    """RGB -> stylized RGB with the job's options: `styles` is the registry of the styles a job may use. Frames
    are moving pictures: a network's steady variant paints them where it has one (strokes that hold still as the
    scene moves), else the served one."""
    if "blend" in options:
        stylizer = styles.blend([(part["style"], part["weight"]) for part in options["blend"]], moving=True)
    else:
        stylizer = styles.get(options["style"], moving=True)
    strength, keep_colours = options.get("strength", 1.0), options.get("preserve_color", False)

    def paint(rgb: np.ndarray) -> np.ndarray:
        return stylecore.stylize_pixels(stylecore.DecodedImage(rgb), stylizer, strength, keep_colours)
    return paint


def stylize_chunk(store, styles, owner: str, video_id: str, chunk: dict, folder, source=None, stopping=None) -> int:
    """One chunk of the result, stored; its frames. `source`: the clip already on disk (the local worker), else
    it is downloaded into `folder`; stopping(): whether to stop between frames (Stopped)."""
    job = job_for_work(store, owner, video_id)
    try:
        return stylized_chunk(store, styles, job, chunk, Path(folder), source, stopping)
    except media.VideoError as error:  # for the workflow's fail step, which sees only that a Map item failed
        store.put(progress_key(owner, video_id, chunk["index"]), json.dumps(
            {"frames": 0, "seconds": 0.0, "error": str(error)}).encode(), "application/json")
        raise


def stylized_chunk(store, styles, job, chunk: dict, folder: Path, source, stopping) -> int:
    owner, video_id = job.owner, job.id
    if source is None:
        source = folder / "source"
        if not store.download(source_key(owner, video_id), source):
            raise media.VideoError("invalid_video", "The uploaded clip is gone (deleted, or expired after a day).")
    index, started = chunk["index"], time.monotonic()
    marks = {"progress": 0.0, "cancel": started}

    def on_frame(done: int, rgb: np.ndarray) -> None:
        if stopping is not None and stopping():
            raise Stopped(video_id)
        now = time.monotonic()
        if now - marks["cancel"] >= CANCEL_CHECK_EVERY_S:
            marks["cancel"] = now
            job_for_work(store, owner, video_id)
        if now - marks["progress"] >= PROGRESS_EVERY_S or done == chunk["end"] - chunk["start"]:
            marks["progress"] = now
            write_progress(store, owner, video_id, index, done, now - started, rgb)

    out = folder / f"chunk-{index:05d}.mp4"
    frames = media.stylize_range(source, media.Plan.from_record(job.plan), chunk["start"], chunk["end"],
                                 painter(styles, job.options), out, on_frame)
    store.upload(out, chunk_key(owner, video_id, index), "video/mp4")
    out.unlink(missing_ok=True)
    return frames


def write_progress(store, owner, video_id, index, done, seconds, rgb) -> None:
    store.put(progress_key(owner, video_id, index), json.dumps({"frames": done, "seconds": seconds}).encode(),
              "application/json")
    preview = Image.fromarray(rgb)
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buffer = io.BytesIO()
    preview.save(buffer, "JPEG", quality=75)
    store.put(preview_key(owner, video_id), buffer.getvalue(), "image/jpeg")


def finish(store, owner: str, video_id: str, folder, source=None) -> dict:
    """The chunks joined, with the clip's sound, into the result; the job done, its working files deleted."""
    job = job_for_work(store, owner, video_id)
    folder = Path(folder)
    if source is None:
        source = folder / "source"
        store.download(source_key(owner, video_id), source)
    paths = []
    for chunk in job.chunks:
        path = folder / f"joined-{chunk['index']:05d}.mp4"
        if not store.download(chunk_key(owner, video_id, chunk["index"]), path):
            raise media.VideoError("internal", f"chunk {chunk['index']} of the result is missing")
        paths.append(path)
    out = folder / "result.mp4"
    facts = media.join(paths, source, media.Plan.from_record(job.plan), out)
    job_for_work(store, owner, video_id)  # cancelled while joining: keep nothing
    store.upload(out, result_key(owner, video_id), "video/mp4")
    facts["bytes"] = out.stat().st_size
    with store.lock:
        job = job_for_work(store, owner, video_id)
        job.state, job.result, job.finished_at = DONE, facts, time.time()
        save(store, job)
    delete_working_files(store, owner, video_id)
    return facts


def fail(store, owner: str, video_id: str, reason: str) -> None:
    with store.lock:
        job = load(store, owner, video_id)
        if job is None or job.state in (DONE, CANCELLED, FAILED):
            return
        job.state, job.error, job.finished_at = FAILED, reason, time.time()
        save(store, job)
    delete_working_files(store, owner, video_id)


def delete_working_files(store, owner: str, video_id: str) -> None:
    """Everything but the record, the result and the preview: the upload, the chunks, the progress marks."""
    base = prefix(owner, video_id)
    store.delete(source_key(owner, video_id))
    store.delete_prefix(base + "chunks/")


def chunk_error(store, owner: str, video_id: str) -> str | None:
    """The reason a chunk gave for failing (stylize_chunk left it in its progress mark), if one did."""
    for key in store.list(prefix(owner, video_id) + "progress/"):
        try:
            reason = json.loads(store.get(key) or b"{}").get("error")
        except (ValueError, AttributeError):
            continue
        if isinstance(reason, str) and reason:
            return reason
    return None


def progress_of(store, owner: str, video_id: str) -> tuple:
    """(frames done, seconds of work they took), over every chunk's progress mark."""
    frames, seconds = 0, 0.0
    for key in store.list(prefix(owner, video_id) + "progress/"):
        try:
            mark = json.loads(store.get(key) or b"{}")
            frames, seconds = frames + int(mark["frames"]), seconds + float(mark["seconds"])
        except (ValueError, KeyError, TypeError):
            continue
    return frames, seconds
