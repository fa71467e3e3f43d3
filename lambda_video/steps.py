"""The video workflow's steps, one Lambda handler each (stacks/video.yaml's state machine runs them):

    plan           {id, owner}          -> {id, owner, chunks: [{index, start, end}, ...]}   the job is running
    stylize_chunk  {id, owner, chunk}   -> {index, frames}                                 one chunk (Map item)
    join           {id, owner}          -> {id, state: "done"}                             the result
    fail           {id, owner, error}   -> {id, state: "failed"}                           a Catch's target

The work itself is videojobs.work, the same code the local stack's worker runs. A step of a cancelled job ends
quietly (the record says cancelled; StopExecution ends the rest)."""

import json
import os
import shutil
import tempfile

import stylecore
from apicommon.store import S3Store
from apicommon.userstyles import OWNER, is_job_id
from videojobs import work
from videojobs.media import VideoError

STORE = S3Store(os.environ["VIDEOS_BUCKET"])
STYLES = stylecore.StyleRegistry.from_env()


def job_of(event: dict) -> tuple:
    """The event's owner and id, checked: they name S3 keys."""
    owner, video_id = event.get("owner"), event.get("id")
    if not (isinstance(owner, str) and OWNER.fullmatch(owner) and is_job_id(video_id)):
        raise ValueError("the event names no video")
    return owner, video_id


def plan(event, context) -> dict:
    owner, video_id = job_of(event)
    try:
        chunks = work.begin(STORE, owner, video_id)
    except work.Cancelled:
        chunks = []
    return {"id": video_id, "owner": owner, "chunks": chunks}


def stylize_chunk(event, context) -> dict:
    owner, video_id = job_of(event)
    folder = tempfile.mkdtemp(prefix="chunk-")
    try:
        frames = work.stylize_chunk(STORE, STYLES, owner, video_id, event["chunk"], folder)
    except work.Cancelled:
        frames = 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"index": event["chunk"]["index"], "frames": frames}


def join(event, context) -> dict:
    owner, video_id = job_of(event)
    folder = tempfile.mkdtemp(prefix="join-")
    try:
        work.finish(STORE, owner, video_id, folder)
        state = "done"
    except work.Cancelled:
        state = "cancelled"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"id": video_id, "state": state}


def fail(event, context) -> dict:
    """A Catch's target: the job failed, with the reason a VideoError gave, else a general one (the details
    stay in the execution's history and the logs)."""
    owner, video_id = job_of(event)
    error = event.get("error") or {}
    reason = None
    if error.get("Error") == VideoError.__name__:
        try:
            reason = json.loads(error.get("Cause") or "{}").get("errorMessage")
        except ValueError:
            pass
    reason = reason or work.chunk_error(STORE, owner, video_id) or "The video could not be made."
    work.fail(STORE, owner, video_id, reason)
    return {"id": video_id, "state": "failed"}
