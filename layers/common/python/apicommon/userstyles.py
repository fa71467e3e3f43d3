"""Users' own styles (issue 14): where a training job's files live, and how `POST /stylize` finds its style.

Both handlers need this: the jobs function writes and reads a job's files, the inference function serves the
finished style. The layout is the same in a local folder (`make dev`) and in the styles bucket on AWS:

    users/<owner>/<job id>.json       the job's record (owner, name, state, settings); only the API writes it
    jobs/<job id>/input/painting.png  the painting, checked and normalised by the API
    jobs/<job id>/run/                the trainer's run folder: metrics.jsonl, samples/, checkpoints/
    jobs/<job id>/run/model/          the exported style: <style id>.onnx and its card <style id>.json

A job id is 128 random bits (26 base-32 characters) and its style's id is `user-<job id>`: it cannot be
guessed, so holding it is what lets a client stylize with it, and it is never listed to anyone but its owner.
An S3 lifecycle rule (template.yaml, StyleRetentionDays) expires both prefixes.
"""

import base64
import os
import re
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

USER_STYLE_PREFIX = "user-"
JOB_ID = re.compile(r"^[a-z2-7]{26}$")
OWNER = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # a Cognito `sub` (a UUID), or "local"


def new_job_id() -> str:
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def is_job_id(text) -> bool:
    return isinstance(text, str) and bool(JOB_ID.match(text))


def style_id_of(job_id: str) -> str:
    return USER_STYLE_PREFIX + job_id


def job_id_of(style_id) -> str | None:
    """The job a user style id comes from, or None for any other id."""
    if isinstance(style_id, str) and style_id.startswith(USER_STYLE_PREFIX):
        job_id = style_id[len(USER_STYLE_PREFIX):]
        return job_id if is_job_id(job_id) else None
    return None


def record_key(owner: str, job_id: str) -> str:
    return f"users/{owner}/{job_id}.json"


def owner_prefix(owner: str) -> str:
    return f"users/{owner}/"


def job_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/"


def painting_key(job_id: str) -> str:
    return f"jobs/{job_id}/input/painting.png"


def run_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/run/"


def model_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/run/model/"


class UserStyles:
    """The finished user styles `POST /stylize` may name: each is its own small registry (its model prefix),
    made on first use and kept (the last MAX_KEPT), so a warm function loads a user's network once. Each use
    checks that the style is still there (one S3 HEAD), so a deleted or expired style stops working at once."""

    MAX_KEPT = 16

    def __init__(self, make_registry, still_there):
        self._make_registry = make_registry  # job id -> a StyleRegistry of its model prefix, or None
        self._still_there = still_there  # job id -> whether its style's card is still there
        self._kept = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "UserStyles | None":
        """USER_STYLES_DIR (the local stack's jobs folder) or USER_STYLES_BUCKET (the styles bucket on AWS);
        None when neither is set (training is off)."""
        from stylecore import StyleRegistry  # only the inference function asks for styles

        if os.environ.get("USER_STYLES_DIR"):
            root = Path(os.environ["USER_STYLES_DIR"])
            card = lambda job_id: root / model_prefix(job_id) / f"{style_id_of(job_id)}.json"  # noqa: E731
            return cls(lambda job_id: StyleRegistry.from_dir(card(job_id).parent) if card(job_id).is_file() else None,
                       lambda job_id: card(job_id).is_file())
        bucket = os.environ.get("USER_STYLES_BUCKET")
        if bucket:
            import boto3

            s3 = boto3.client("s3")
            cache = os.environ.get("USER_STYLES_CACHE_DIR", "/tmp/user-styles")

            def still_there(job_id):
                try:
                    s3.head_object(Bucket=bucket, Key=f"{model_prefix(job_id)}{style_id_of(job_id)}.json")
                    return True
                except s3.exceptions.ClientError:
                    return False

            return cls(lambda job_id: StyleRegistry.from_s3(bucket, model_prefix(job_id), f"{cache}/{job_id}", s3)
                       if still_there(job_id) else None, still_there)
        return None

    def registry(self, style_id):
        """The registry serving this user style, or None (not a user style id, or no finished style there)."""
        job_id = job_id_of(style_id)
        if job_id is None:
            return None
        with self._lock:
            kept = self._kept.get(job_id)
        if kept is not None:
            if self._still_there(job_id):
                with self._lock:
                    self._kept[job_id] = kept
                    self._kept.move_to_end(job_id)
                return kept
            self.forget(style_id)
            return None
        registry = self._make_registry(job_id)
        if registry is None or style_id not in {s["id"] for s in registry.list_styles()}:
            return None  # not kept: the job may finish later
        with self._lock:
            self._kept[job_id] = registry
            while len(self._kept) > self.MAX_KEPT:
                self._kept.popitem(last=False)
        return registry

    def blend_registry(self, style_ids: list):
        """The registry a blend naming a user style runs on: that style's own file, which holds the bundled styles
        it was trained from (export --join); None when the blend names no user style."""
        from stylecore import BlendAcrossNetworks, UnknownStyle

        own = [s for s in style_ids if job_id_of(s)]
        if not own:
            return None
        if len(own) > 1:
            raise BlendAcrossNetworks("two of your own styles cannot be blended: each is a network of its own")
        registry = self.registry(own[0])
        if registry is None:
            raise UnknownStyle(f"unknown style {own[0]!r}: not a finished style of yours")
        held = [entry["id"] for entry in registry.list_styles()]
        others = [s for s in style_ids if s not in held]
        if others:
            raise BlendAcrossNetworks(f"{own[0]} blends only with the styles its file holds ("
                                      f"{', '.join(s for s in held if s != own[0]) or 'none'}), not with "
                                      f"{', '.join(map(str, others))}")
        return registry

    def forget(self, style_id) -> None:
        with self._lock:
            self._kept.pop(job_id_of(style_id), None)
