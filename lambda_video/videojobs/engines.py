"""Who runs a started job's steps (work.py): a worker thread on this machine (the local stack) or an execution
of the AWS workflow (Step Functions: plan, a Distributed Map of chunks, join)."""

import json
import logging
import re
import shutil
import tempfile
import threading
import traceback
from pathlib import Path

from . import media, work
from .jobs import QUEUED, RUNNING, VideoJob, VideoJobError, chunk_key, save, source_key

LOG = logging.getLogger(__name__)
RECORD = re.compile(r"videos/([A-Za-z0-9_-]{1,128})/([a-z2-7]{26})\.json")


class LocalEngine:
    """One job at a time, its chunks one after another, in this process. The records are the queue (queued,
    oldest first), so jobs survive a restart: a job found running at start was cut off and runs again, skipping
    the chunks it had stored."""

    def __init__(self, store, styles, poll_s: float = 1.0):
        self.store, self.styles, self.poll_s = store, styles, poll_s
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread = None

    def start(self) -> "LocalEngine":
        for job in self.jobs():
            if job.state == RUNNING:
                job.state = QUEUED
                save(self.store, job)
        self._thread = threading.Thread(target=self._work, name="video-jobs", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait_s: float = 30.0) -> None:
        """Stop after the current frame (the job stays running in its record, to resume at the next start), and
        wait for the worker: a process must not exit under a thread that is inside the network or FFmpeg."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(wait_s)

    def submit(self, job: VideoJob) -> None:
        self._wake.set()

    def cancel(self, job: VideoJob) -> None:
        pass  # the running step reads the record every few seconds and stops

    def jobs(self) -> list:
        found = []
        for key in self.store.list("videos/"):
            match = RECORD.fullmatch(key)
            data = self.store.get(key) if match else None
            if data is not None:
                found.append(VideoJob.from_json(data))
        return sorted(found, key=lambda job: job.created_at)

    def _work(self) -> None:
        while not self._stopping.is_set():
            queued = [job for job in self.jobs() if job.state == QUEUED]
            if not queued:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            run_job(self.store, self.styles, queued[0], self._stopping)


def run_job(store, styles, job: VideoJob, stopping: threading.Event | None = None) -> None:
    """A job's steps, one after another; its failure recorded with the reason."""
    folder = Path(tempfile.mkdtemp(prefix="video-job-"))
    try:
        source = folder / "source"
        if not store.download(source_key(job.owner, job.id), source):
            raise media.VideoError("invalid_video", "The uploaded clip is gone.")
        for chunk in work.begin(store, job.owner, job.id):
            if stopping is not None and stopping.is_set():
                return  # stopped with the stack: still running in its record, so it resumes at the next start
            if store.size(chunk_key(job.owner, job.id, chunk["index"])) is None:
                work.stylize_chunk(store, styles, job.owner, job.id, chunk, folder, source,
                                   stopping.is_set if stopping is not None else None)
        work.finish(store, job.owner, job.id, folder, source)
    except (work.Cancelled, work.Stopped):
        pass
    except media.VideoError as error:
        work.fail(store, job.owner, job.id, str(error))
    except Exception as error:  # noqa: BLE001 - one job's failure must not stop the worker
        LOG.error("video %s failed: %s", job.id, traceback.format_exc())
        work.fail(store, job.owner, job.id, f"The video could not be made ({type(error).__name__}).")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class StepFunctionsEngine:
    """An execution of the workflow per job, named by the job's id (so a job cannot run twice)."""

    def __init__(self, state_machine_arn: str, client=None):
        if client is None:
            import boto3

            client = boto3.client("stepfunctions")
        self.arn, self.client = state_machine_arn, client

    def submit(self, job: VideoJob) -> None:
        try:
            self.client.start_execution(stateMachineArn=self.arn, name=job.id,
                                        input=json.dumps({"id": job.id, "owner": job.owner}))
        except self.client.exceptions.ExecutionAlreadyExists:
            return
        except Exception as error:  # noqa: BLE001 - throttled, unreachable: the user may try again
            LOG.error("StartExecution failed for %s: %r", job.id, error)
            raise VideoJobError("video_unavailable", "The video service could not start the job: try again "
                                "in a minute.") from None

    def cancel(self, job: VideoJob) -> None:
        execution = self.arn.replace(":stateMachine:", ":execution:") + ":" + job.id
        try:
            self.client.stop_execution(executionArn=execution, cause="cancelled by its owner")
        except Exception as error:  # noqa: BLE001 - the record says cancelled; the steps stop on reading it
            LOG.warning("StopExecution failed for %s: %r", job.id, error)


