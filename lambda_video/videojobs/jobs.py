"""A video job's record, its states and where its files live (one layout, in the videos bucket on AWS and in the
local stack's S3):

    videos/<owner>/<id>.json            the record; the API and the steps write it
    videos/<owner>/<id>/source          the clip as uploaded (the presigned POST's key)
    videos/<owner>/<id>/chunks/<n>.mp4  stylized chunk n (deleted once joined)
    videos/<owner>/<id>/progress/<n>    frames of chunk n done so far, and the seconds they took
    videos/<owner>/<id>/preview.jpg     the newest stylized frame, small
    videos/<owner>/<id>/result.mp4      the stylized clip
    videos/<owner>/_active/<n>          the owner's quota slots; videos/_active/<n> the stack's
    videos/<owner>/_minutes/<day>       the minutes of video the owner started that UTC day

Ids are 128 random bits, as training jobs' (apicommon.userstyles.new_job_id).
"""

import json
import time
from dataclasses import asdict, dataclass, field

UPLOADING, QUEUED, RUNNING, DONE, FAILED, CANCELLED = "uploading", "queued", "running", "done", "failed", "cancelled"
ACTIVE = (UPLOADING, QUEUED, RUNNING)
STACK_SLOTS_PREFIX = "videos/_active/"  # "_" is in no owner's id: no record's key starts with this


class VideoJobError(Exception):
    """A refusal, with a code the handler maps to its HTTP status."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def prefix(owner: str, video_id: str) -> str:
    return f"videos/{owner}/{video_id}/"


def record_key(owner: str, video_id: str) -> str:
    return f"videos/{owner}/{video_id}.json"


def source_key(owner: str, video_id: str) -> str:
    return prefix(owner, video_id) + "source"


def chunk_key(owner: str, video_id: str, index: int) -> str:
    return prefix(owner, video_id) + f"chunks/{index:05d}.mp4"


def progress_key(owner: str, video_id: str, index: int) -> str:
    return prefix(owner, video_id) + f"progress/{index:05d}"


def preview_key(owner: str, video_id: str) -> str:
    return prefix(owner, video_id) + "preview.jpg"


def result_key(owner: str, video_id: str) -> str:
    return prefix(owner, video_id) + "result.mp4"


def user_slots_prefix(owner: str) -> str:
    return f"videos/{owner}/_active/"


def minutes_key(owner: str, day: str) -> str:
    return f"videos/{owner}/_minutes/{day}"


def now_iso(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if at is None else at))


@dataclass
class VideoJob:
    id: str
    owner: str
    options: dict  # style or blend, strength, preserve_color, max_size: as asked, checked
    bytes: int  # the upload's size, as declared (the presigned POST holds it to exactly this)
    content_type: str
    filename: str = ""
    state: str = UPLOADING
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    source: dict | None = None  # media.Source.public(), once started
    plan: dict | None = None  # media.Plan.as_record()
    chunks: list = field(default_factory=list)  # [{index, start, end}]
    result: dict | None = None  # the result's facts (no URLs: those are signed per request)
    error: str | None = None
    slots: list = field(default_factory=list)
    minutes_day: str | None = None  # the day whose minutes this job counts against

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "VideoJob":
        fields = json.loads(data)
        return cls(**{name: fields[name] for name in cls.__dataclass_fields__ if name in fields})

    @property
    def frames_total(self) -> int | None:
        return self.plan["frames"] if self.plan else None


def load(store, owner: str, video_id: str) -> VideoJob | None:
    data = store.get(record_key(owner, video_id))
    return VideoJob.from_json(data) if data is not None else None


def save(store, job: VideoJob) -> None:
    store.put(record_key(job.owner, job.id), job.to_json(), "application/json")
