"""The jobs Lambda ("train your own style"): a thin handler over stylejobs.

    POST   /styles        a painting and a name -> 202 and the job (its id is in `id` and in Location)
    GET    /jobs          the caller's jobs, oldest first (their finished styles are the caller's styles)
    GET    /jobs/{id}     state, progress, losses, time left, the latest preview
    GET    /jobs/{id}/model  a done job's style as its ONNX file (what a browser runs on the device)
    DELETE /jobs/{id}     cancel a queued or running job (what it learned is discarded)
    POST   /jobs/{id}/finish  "Use it now": a running job's furthest checkpoint becomes its style, now
    DELETE /styles/{id}   delete a finished style (user-<job id>) and its job, or a failed or cancelled job

Who the caller is: on AWS the subject (`sub`) of the Cognito token that the routes' Lambda authorizer
(authorizer/app.py) verified, with CloudFront's secret header, and passed in its context; locally
(JOBS_AUTH=none) everyone is "local". The engine: JOBS_ENGINE=sagemaker (the styles bucket and SageMaker
training jobs) or local (a folder and a worker on this machine, started here: the local stack runs this
module in its own process).

stylejobs speaks of jobs, not of HTTP: its refusals are JobErrors with a code, and the HTTP status of each
code is decided here.
"""

import functools
import os

from apicommon.http import ApiError, Request, Response, check_fields, handle
from apicommon.uploads import decode_base64
from apicommon.userstyles import caller_from
from stylejobs.jobs import JobError, Quota
from stylejobs.service import JobService

# The HTTP status of each JobError code; a refusal not named here is the request's fault (400).
JOB_ERROR_STATUS = {"invalid_request": 400, "invalid_image": 400, "image_too_large": 413, "unknown_job": 404,
                    "job_not_running": 409, "job_running": 409, "job_stopping": 409, "style_not_ready": 409,
                    "no_checkpoint_yet": 409,
                    "too_many_jobs": 429, "training_not_started": 502, "training_unavailable": 503,
                    "training_busy": 503}


def service_from_env() -> JobService:
    """JOBS_MAX_ACTIVE and JOBS_MAX_STORED per user, JOBS_MAX_TRAINING for the whole stack (the template's)."""
    env = os.environ
    quota = Quota(int(env.get("JOBS_MAX_ACTIVE", Quota.active)), int(env.get("JOBS_MAX_STORED", Quota.stored)),
                  int(env.get("JOBS_MAX_TRAINING", Quota.stack_active)))
    if os.environ.get("JOBS_ENGINE", "sagemaker") == "local":
        from stylejobs.local import local_engine_from_env

        store, engine = local_engine_from_env()
        return JobService(store, engine.start(), quota)
    from apicommon.store import S3Store
    from stylejobs.sagemaker import SageMakerEngine, SageMakerSettings, check_phases

    settings = SageMakerSettings.from_env()
    store = S3Store(settings.bucket)
    schedule = check_phases(os.environ.get("TRAINING_PHASES", ""))
    return JobService(store, SageMakerEngine(settings, schedule, store=store), quota)


SERVICE = service_from_env()
caller_of = caller_from(os.environ.get("JOBS_AUTH", "jwt"))


def owner(request: Request) -> str:
    if request.caller is None:
        raise ApiError(401, "unauthorized", "Sign in first: the training routes need a signed-in user "
                       "(Authorization: Bearer <token>).")
    return request.caller


def job_route(route):
    """A route over stylejobs: its JobErrors become API errors with their code's status."""

    @functools.wraps(route)
    def run(request: Request):
        try:
            return route(request)
        except JobError as error:
            raise ApiError(JOB_ERROR_STATUS.get(error.code, 400), error.code, str(error)) from None
    return run


@job_route
def create_style(request: Request) -> Response:
    body = request.json()
    check_fields(body, required={"name", "image"})
    if not isinstance(body["image"], str):
        raise ApiError(400, "invalid_request", "'image' must be a string: the painting's file as base64.")
    job = SERVICE.submit(owner(request), body["name"], decode_base64(body["image"]))
    return Response(SERVICE.view(job), 202, {"Location": f"/jobs/{job.id}"}, log={"job": job.id})


@job_route
def list_jobs(request: Request) -> dict:
    return {"jobs": [SERVICE.view(job, detail=False) for job in SERVICE.jobs_of(owner(request))]}


@job_route
def get_job(request: Request) -> dict:
    return SERVICE.view(SERVICE.get(owner(request), request.params["id"]))


@job_route
def get_model(request: Request) -> Response:
    data, model = SERVICE.model_file(owner(request), request.params["id"])
    # The file never changes under its name (a new style is a new job), so the browser may keep it.
    return Response(data, 200, {"Content-Type": "application/octet-stream", "Cache-Control": "private, max-age=86400",
                                "ETag": f'"{model["sha256"]}"'}, log={"bytes": len(data)})


@job_route
def cancel_job(request: Request) -> dict:
    return SERVICE.view(SERVICE.cancel(owner(request), request.params["id"]))


@job_route
def finish_job(request: Request) -> Response:
    return Response(SERVICE.view(SERVICE.finish(owner(request), request.params["id"])), 202)


@job_route
def delete_style(request: Request) -> Response:
    SERVICE.delete_style(owner(request), request.params["id"])
    return Response(None, 204)


ROUTES = {"/styles": {"POST": create_style}, "/jobs": {"GET": list_jobs},
          "/jobs/{id}": {"GET": get_job, "DELETE": cancel_job}, "/jobs/{id}/model": {"GET": get_model},
          "/jobs/{id}/finish": {"POST": finish_job},
          "/styles/{id}": {"DELETE": delete_style}}


def handler(event, context):
    return handle(event, context, ROUTES, caller=caller_of)
