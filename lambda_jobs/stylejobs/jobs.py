"""A training job's record, its states and schedule, the quotas, and the rule for a style's name."""

import base64
import time
from dataclasses import asdict, dataclass, field, fields

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
MAX_NAME_CHARS = 60


class JobError(Exception):
    """A request the jobs refuse: a stable code (the API's error code) and a sentence for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Schedule:
    """What a user style trains on: phases of (steps, crop size), small crops first, so that a recognisable
    preview comes early and the later, larger crops refine it. Only the new style's instance-norm scales and
    shifts train when a base network is given (--finetune-new-styles).

    Its other fields are trainer settings, by their names in training/recipe.py (the jobs function runs without
    the training package, so this is the one place outside training/ that names them)."""

    # Measured on four paintings, two the bundled network never saw (docs/style-schedule.md): the style ratio
    # settles within 10 % of where 800 steps take it after 250-500 steps, and a longer 128 px warm-up gets there
    # for half the time of 256 px steps. About 8 minutes on a quiet 2-core CPU, where 2,000 steps took 41.
    phases: tuple = ((400, 128), (200, 256))
    batch_size: int = 4
    width: int = 16  # a network trained without a base network; fine-tuned into one, a style takes its width
    lr: float = 1e-2  # gammas and betas alone take a larger step than a whole network
    style_weight: float = 3.0  # the bundled network's own loss weights (caffe preprocessing)
    content_weight: float = 1.0
    tv_weight: float = 0.2
    sample_every: int = 20
    sample_size: int = 256
    style_size: int = 512  # the painting's long side as the loss network sees it
    checkpoint_every: int = 50

    @property
    def total_steps(self) -> int:
        return sum(steps for steps, _ in self.phases)

    def phases_text(self) -> str:
        """400@128,200@256: how the training job (training/job.py) takes them."""
        return ",".join(f"{steps}@{size}" for steps, size in self.phases)

    def trainer_settings(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "phases"}


def job_arguments(schedule: Schedule, *, name: str, **job) -> dict:
    """The training job's arguments (training/job.py), name -> text: the job's own (painting, run, style id,
    phases, ...), the schedule's trainer settings, and the style's name as name-b64 (name_token). The one place
    both engines get them from: the local engine's command line, and the SageMaker job's hyperparameters.

    The name is the only text a user typed, and it never travels as itself: the SageMaker training toolkit of
    the prebuilt containers joins the hyperparameters into one line and runs it with /bin/sh, where a quote, a
    space or $(...) in a name would be read by the shell. Its token is letters, digits, '-' and '_' only."""
    values = {**job, "name_b64": name_token(name), "phases": schedule.phases_text(), **schedule.trainer_settings()}
    return {key.replace("_", "-"): str(value) for key, value in values.items() if value is not None}


def name_token(name: str) -> str:
    """A style's name as base64url of its UTF-8, unpadded: a word that no shell or argument parser reads as
    anything but itself (training/job.py decodes it)."""
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii").rstrip("=")


def command_line(arguments: dict) -> list:
    """job_arguments as command-line words."""
    return [word for name, value in arguments.items() for word in (f"--{name}", value)]


def parse_phases(text: str) -> tuple:
    phases = []
    for part in text.split(","):
        steps, _, size = part.partition("@")
        phases.append((int(steps), int(size)))
    if not phases or any(steps < 1 or size < 16 for steps, size in phases):
        raise ValueError(f"phases {text!r}: STEPS@SIZE,... with steps >= 1 and sizes >= 16")
    return tuple(phases)


@dataclass(frozen=True)
class Quota:
    """How many jobs one user may have queued or running at once, how many in all (their styles), and how many
    the whole stack may have queued or running at once (each is a GPU instance on AWS)."""

    active: int = 2
    stored: int = 10
    stack_active: int = 4  # stacks/training.yaml sets JOBS_MAX_TRAINING to the same (a test holds them equal)


def check_name(name) -> str:
    """The style's name as kept: trimmed, 1 to MAX_NAME_CHARS printable characters of any script, not beginning
    with '-'; or JobError invalid_request saying what is wrong.

    Printable (str.isprintable) refuses control characters (NUL, tabs, newlines), unpaired surrogates and
    invisible format characters: the name is shown in pickers and passed to the trainer as an argument, where a
    NUL or a surrogate cannot go. A leading '-' would read as an option of the trainer's command line."""
    if not isinstance(name, str):
        raise JobError("invalid_request", "'name' must be a string: the style's name.")
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise JobError("invalid_request", f"'name' is the style's name: 1 to {MAX_NAME_CHARS} characters.")
    if not name.isprintable():
        raise JobError("invalid_request", "'name' may hold letters, digits, spaces and punctuation of any script, "
                       "not control characters (such as tabs, newlines or NUL), invisible characters or unpaired "
                       "surrogates.")
    if name.startswith("-"):
        raise JobError("invalid_request", "'name' must not begin with '-'.")
    return name


@dataclass
class Job:
    id: str
    owner: str
    name: str
    total_steps: int
    state: str = QUEUED
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    thumbnail: str | None = None  # the painting, a small JPEG data URL
    engine: dict = field(default_factory=dict)  # the engine's own handle: {"kind": "sagemaker", "name": ...}
    cancel_requested: bool = False
    # "Use it now": its owner asked to finish early, exporting the furthest checkpoint instead of training on
    finish_requested: bool = False
    finished_early_at_step: int | None = None  # the step of the checkpoint a job finished early was exported from
    slots: list = field(default_factory=list)  # the quota slots (store keys) this job claimed: apicommon.slots

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Job":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    def finish(self, state: str, error: str | None = None) -> None:
        self.state, self.error, self.finished_at = state, error, time.time()

    def finished_from(self, card: dict | None) -> None:
        """Done, from its exported style's card: the step it was exported at, where that is short of the end."""
        self.finish(DONE)
        step = ((card or {}).get("training") or {}).get("steps")
        if self.finish_requested and isinstance(step, int) and step < self.total_steps:
            self.finished_early_at_step = step
