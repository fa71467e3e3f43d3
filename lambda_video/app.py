"""The video Lambda: stylize a clip, a thin handler over videojobs.

    POST   /videos             the options and the clip's size and type -> 201, the job and its presigned upload
    GET    /videos/limits      what a clip may be (checked in the browser before uploading)
    POST   /videos/{id}/start  after the upload: the clip checked, then queued -> 202 (or a 4xx saying why not)
    GET    /videos/{id}        state, frames done of total, time left, the newest frame, the result's URLs
    DELETE /videos/{id}        cancel a job in progress, or delete a finished one with its files

Who the caller is, as for the training routes: the Cognito `sub` the routes' authorizer verified, or "local"
without sign-in (VIDEOS_AUTH=none). The engine: VIDEOS_ENGINE=stepfunctions (the workflow of
VIDEOS_STATE_MACHINE_ARN) or local (a worker in this process: the local stack).
"""

import functools
import os

import stylecore
from apicommon.http import ApiError, Request, Response, check_fields, handle, typed_field
from apicommon.store import S3Store
from apicommon.userstyles import caller_from
from videojobs import limits
from videojobs.engines import LocalEngine, StepFunctionsEngine
from videojobs.jobs import VideoJobError
from videojobs.media import VideoError
from videojobs.service import Quota, VideoService

ERROR_STATUS = {"invalid_request": 400, "invalid_video": 400, "unknown_video": 404, "video_not_uploaded": 409,
                "video_started": 409, "video_too_large": 413, "video_too_long": 413, "too_many_videos": 429,
                "video_minutes": 429, "video_unavailable": 503, "invalid_parameter": 400, "invalid_blend": 400,
                "blend_across_networks": 400, "unknown_style": 404}
OPTIONS = {"style", "blend", "strength", "preserve_color", "max_size"}


def service_from_env() -> VideoService:
    env = os.environ
    store = S3Store(env["VIDEOS_BUCKET"])
    styles = stylecore.StyleRegistry.from_env()
    quota = Quota(int(env.get("VIDEOS_MAX_ACTIVE", Quota.active)),
                  float(env.get("VIDEOS_MAX_MINUTES_PER_DAY", Quota.minutes_per_day)),
                  int(env.get("VIDEOS_MAX_STACK_ACTIVE", Quota.stack_active)))
    if env.get("VIDEOS_ENGINE", "stepfunctions") == "local":
        engine = LocalEngine(store, styles).start()
    else:
        engine = StepFunctionsEngine(env["VIDEOS_STATE_MACHINE_ARN"])
    return VideoService(store, engine, styles, quota, int(env.get("VIDEOS_CHUNK_FRAMES", limits.CHUNK_FRAMES)))


SERVICE = service_from_env()
caller_of = caller_from(os.environ.get("VIDEOS_AUTH", "jwt"))


def owner(request: Request) -> str:
    if request.caller is None:
        raise ApiError(401, "unauthorized", "Sign in first: videos need a signed-in user "
                       "(Authorization: Bearer <token>).")
    return request.caller


def video_route(route):
    """A route over videojobs: its refusals become API errors with their code's status."""

    @functools.wraps(route)
    def run(request: Request):
        try:
            return route(request)
        except (VideoJobError, VideoError, stylecore.StyleCoreError) as error:
            raise ApiError(ERROR_STATUS.get(error.code, 400), error.code, str(error)) from None
    return run


@video_route
def create_video(request: Request) -> Response:
    body = request.json()
    check_fields(body, required={"bytes", "content_type"}, optional=OPTIONS | {"filename"})
    caller = owner(request)
    job, upload = SERVICE.create(caller, video_options(body), typed_field(body, "bytes", int, None),
                                 typed_field(body, "content_type", str, None),
                                 typed_field(body, "filename", str, ""))
    return Response({**SERVICE.view(job), "upload": upload}, 201, {"Location": f"/videos/{job.id}"},
                    log={"video": job.id})


def video_options(body: dict) -> dict:
    """The stylize options a video keeps, checked as POST /stylize checks them (results up to MAX_SIZE)."""
    if ("style" in body) == ("blend" in body):
        raise ApiError(400, "invalid_request", "Name one style in 'style', or mix styles in 'blend': exactly one "
                       "of the two.")
    if "blend" in body:
        parts = typed_field(body, "blend", list, None)
        if not all(isinstance(p, dict) and set(p) == {"style", "weight"} for p in parts):
            raise ApiError(400, "invalid_request", "'blend' is a list of {\"style\": id, \"weight\": number} "
                           "objects.")
        chosen = {"blend": [{"style": typed_field(p, "style", str, None),
                             "weight": typed_field(p, "weight", (int, float), None)} for p in parts]}
    else:
        chosen = {"style": typed_field(body, "style", str, None)}
    if "bytes" in body and (typed_field(body, "bytes", int, None) < 1):
        raise ApiError(400, "invalid_request", "'bytes' is the clip's file size: at least 1.")
    options = stylecore.StylizeOptions(
        strength=typed_field(body, "strength", (int, float), 1.0),
        preserve_color=typed_field(body, "preserve_color", bool, False),
        max_size=typed_field(body, "max_size", int, limits.MAX_SIZE)).checked((limits.MIN_SIZE, limits.MAX_SIZE))
    return {**chosen, "strength": options.strength, "preserve_color": options.preserve_color,
            "max_size": options.max_size}


def get_limits(request: Request) -> dict:
    return limits.as_dict()


@video_route
def start_video(request: Request) -> Response:
    return Response(SERVICE.view(SERVICE.start(owner(request), request.params["id"])), 202)


@video_route
def get_video(request: Request) -> dict:
    return SERVICE.view(SERVICE.get(owner(request), request.params["id"]))


@video_route
def delete_video(request: Request) -> Response:
    job = SERVICE.delete(owner(request), request.params["id"])
    return Response(None, 204) if job is None else Response(SERVICE.view(job))


ROUTES = {"/videos": {"POST": create_video}, "/videos/limits": {"GET": get_limits},
          "/videos/{id}/start": {"POST": start_video}, "/videos/{id}": {"GET": get_video, "DELETE": delete_video}}


def handler(event, context):
    return handle(event, context, ROUTES, caller=caller_of)
