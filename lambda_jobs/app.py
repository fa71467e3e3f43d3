"""The jobs Lambda (issue 14, "train your own style"): a thin handler over stylejobs.

    POST   /styles        a painting and a name -> 202 and the job (its id is in `id` and in Location)
    GET    /jobs          the caller's jobs, oldest first (their finished styles are the caller's styles)
    GET    /jobs/{id}     state, progress, losses, time left, the latest preview
    GET    /jobs/{id}/model  a done job's style as its ONNX file (what a browser runs on the device)
    DELETE /jobs/{id}     cancel a queued or running job
    DELETE /styles/{id}   delete a finished style (user-<job id>) and its job, or a failed or cancelled job

Who the caller is: on AWS the subject (`sub`) of the Cognito token that the routes' Lambda authorizer
(authorizer/app.py) verified, with CloudFront's secret header, and passed in its context; locally
(JOBS_AUTH=none) everyone is "local". The engine: JOBS_ENGINE=sagemaker (the styles bucket and SageMaker
training jobs) or local (a folder and a worker on this machine, started here: the local stack runs this
module in its own process).
"""

import os
import re

from apicommon.http import ApiError, Request, Response, check_fields, handle
from apicommon.uploads import decode_base64
from apicommon.userstyles import OWNER
from stylejobs.jobs import JobError, Quota
from stylejobs.service import JobService

LOCAL_OWNER = "local"


class Routes(dict):
    """Routes with templates such as /jobs/{id}: `handle` looks a path up with get(), which matches them."""

    def get(self, path, default=None):
        if path in self:
            return self[path]
        for template, methods in self.items():
            if "{" in template and re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), path):
                return methods
        return default


def service_from_env() -> JobService:
    quota = Quota(int(os.environ.get("JOBS_MAX_ACTIVE", Quota.active)), int(os.environ.get("JOBS_MAX_STORED",
                                                                                            Quota.stored)))
    if os.environ.get("JOBS_ENGINE", "sagemaker") == "local":
        from stylejobs.local import local_engine_from_env

        store, engine = local_engine_from_env()
        return JobService(store, engine.start(), quota)
    from stylejobs.sagemaker import SageMakerEngine, SageMakerSettings, check_phases
    from stylejobs.store import S3Store

    settings = SageMakerSettings.from_env()
    return JobService(S3Store(settings.bucket), SageMakerEngine(settings, check_phases(
        os.environ.get("TRAINING_PHASES", ""))), quota)


SERVICE = service_from_env()
AUTH = os.environ.get("JOBS_AUTH", "jwt")
_caller = {"owner": None}  # the caller of the event being handled (a Lambda handles one event at a time)


def caller_of(event: dict) -> str | None:
    if AUTH == "none":
        return LOCAL_OWNER
    context = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    sub = context.get("sub")
    return sub if isinstance(sub, str) and OWNER.match(sub) else None


def owner() -> str:
    if _caller["owner"] is None:
        raise ApiError(401, "unauthorized", "Sign in first: the training routes need a signed-in user "
                       "(Authorization: Bearer <token>).")
    return _caller["owner"]


def last_segment(request: Request) -> str:
    return request.path.rsplit("/", 1)[-1]


def jobs_call(function, *args):
    try:
        return function(*args)
    except JobError as error:
        raise ApiError(error.status, error.code, str(error)) from None


def create_style(request: Request) -> Response:
    body = request.json()
    check_fields(body, required={"name", "image"})
    if not isinstance(body["image"], str):
        raise ApiError(400, "invalid_request", "'image' must be a string: the painting's file as base64.")
    job = jobs_call(SERVICE.submit, owner(), body["name"], decode_base64(body["image"]))
    return Response(SERVICE.view(job), 202, {"Location": f"/jobs/{job.id}"}, log={"job": job.id})


def list_jobs(request: Request) -> dict:
    return {"jobs": [SERVICE.view(job, detail=False) for job in jobs_call(SERVICE.jobs_of, owner())]}


def get_job(request: Request) -> dict:
    return SERVICE.view(jobs_call(SERVICE.get, owner(), last_segment(request)))


def get_model(request: Request) -> Response:
    data, model = jobs_call(SERVICE.model_file, owner(), request.path.split("/")[2])
    # The file never changes under its name (a new style is a new job), so the browser may keep it.
    return Response(data, 200, {"Content-Type": "application/octet-stream", "Cache-Control": "private, max-age=86400",
                                "ETag": f'"{model["sha256"]}"'}, log={"bytes": len(data)})


def cancel_job(request: Request) -> dict:
    return SERVICE.view(jobs_call(SERVICE.cancel, owner(), last_segment(request)))


def delete_style(request: Request) -> Response:
    jobs_call(SERVICE.delete_style, owner(), last_segment(request))
    return Response(None, 204)


ROUTES = Routes({"/styles": {"POST": create_style}, "/jobs": {"GET": list_jobs},
                 "/jobs/{id}": {"GET": get_job, "DELETE": cancel_job}, "/jobs/{id}/model": {"GET": get_model},
                 "/styles/{id}": {"DELETE": delete_style}})


def handler(event, context):
    _caller["owner"] = caller_of(event)
    return handle(event, context, ROUTES)
