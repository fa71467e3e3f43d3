"""Users' own styles: their ids, and where a training job's files live.

Both handlers need this: the jobs function writes and reads a job's files, the inference function serves the
finished style (lambda_inference/styles.py finds it by these names). The layout is the same in a local folder
(`make dev`) and in the styles bucket on AWS:

    users/<owner>/<job id>.json       the job's record (owner, name, state, settings); only the API writes it
    jobs/<job id>/input/painting.png  the painting, checked and normalised by the API
    jobs/<job id>/run/                the trainer's run folder: metrics.jsonl, samples/, checkpoints/
    jobs/<job id>/run/model/          the exported style: <style id>.onnx and its card <style id>.json

A job id is 128 random bits (26 base-32 characters) and its style's id is `user-<job id>`: it cannot be
guessed, so holding it is what lets a client stylize with it, and it is never listed to anyone but its owner.
An S3 lifecycle rule (template.yaml, StyleRetentionDays) expires both prefixes.
"""

import base64
import re
import secrets

USER_STYLE_PREFIX = "user-"
# Matched whole (fullmatch): `$` also matches before a trailing newline, so "^...$" with match() took "id\n".
JOB_ID = re.compile(r"[a-z2-7]{26}")
OWNER = re.compile(r"[A-Za-z0-9_-]{1,128}")  # a Cognito `sub` (a UUID), or "local"


def new_job_id() -> str:
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def is_job_id(text) -> bool:
    return isinstance(text, str) and bool(JOB_ID.fullmatch(text))


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


LOCAL_OWNER = "local"  # the one user of a stack without sign-in (the local stack)


def caller_from(auth: str):
    """request -> the user the routes' authorizer verified (the token's `sub`, in its context), or None; with
    auth "none" everyone is LOCAL_OWNER. Shared by the jobs and video handlers."""
    def caller_of(request) -> str | None:
        if auth == "none":
            return LOCAL_OWNER
        sub = request.authorizer.get("sub")
        return sub if isinstance(sub, str) and OWNER.fullmatch(sub) else None
    return caller_of
