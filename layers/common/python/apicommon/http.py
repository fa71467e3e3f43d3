"""API Gateway proxy events in, proxy responses out.

Both payload formats reach the same code: REST APIs send v1 events (`httpMethod`, `path`), HTTP APIs
send v2 events (`requestContext.http.method`, `rawPath`, which keeps a named stage as its first
segment). A handler declares its routes as `{"/styles": {"GET": function}}`, a path or a template such as
`/jobs/{id}` whose parameters the route finds in `request.params`; `handle` does the rest: OPTIONS
preflights, 404/405, the body-size limit, errors as `{"error": {"code", "message"}}`, CORS headers on every
response, a Server-Timing header, and one structured log line per request. A handler whose routes need to
know who is calling passes `handle` a function that reads the caller from the request (its authorizer's
context); the route finds it in `request.caller`.

Callers are strangers, so nothing a request carries may reach a 500: JSON bodies must say they are JSON
(a browser sends `text/plain` cross-origin without a preflight, `application/json` only after one), and
their nesting, numbers and constants are bounded so that they can raise nothing but a 400. Responses are
serialised inside the error handling, so even a bug there is a JSON 500, never a bare one.
"""

import base64
import binascii
import json
import os
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

# Lambda refuses invocation payloads over 6 MB (6,291,456 bytes: API Gateway's and the local stack's limit),
# and the event wraps the body with headers and context, so the body itself gets a little less. The same
# figure bounds our responses.
LAMBDA_PAYLOAD_BYTES = 6_291_456
MAX_BODY_BYTES = 6_000_000
# What one response may carry, base64 included: a caller can force this much egress per call (a PNG at the
# largest size would be 5.8 MB). JPEG and WebP results shrink to fit; a PNG over it gets 413.
MAX_RESPONSE_BYTES = 4_000_000
# How many characters a JSON number may have: Python refuses to convert integers of more than 4,300 digits
# (and takes quadratic time below that), and no field of this API needs more than a few.
MAX_JSON_NUMBER_DIGITS = 100
JSON_MEDIA_TYPE = "application/json"

_cold_start = True


class ApiError(Exception):
    """An error the client caused or can act on; `str(e)` is the message shown to people."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


@dataclass
class Request:
    method: str
    path: str  # the route's path, stage prefix and trailing slash removed: "/styles"
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes
    request_id: str
    received_at: float = field(default_factory=time.perf_counter)  # perf_counter() when the handler got the event
    # What API Gateway passed from the route's Lambda authorizer (its context); empty without one.
    authorizer: dict = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # the route template's parameters: {"id": "..."}
    caller: str | None = None  # who is calling, as the handler's `caller` function read it; None: unknown

    def json(self) -> dict:
        """The body as a JSON object, or a 415 (not declared as JSON) or 400 that says what was expected."""
        media_type = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != JSON_MEDIA_TYPE:
            raise ApiError(415, "invalid_request", f"Send the body as JSON with Content-Type: {JSON_MEDIA_TYPE}"
                           f" (not {shown(media_type) if media_type else 'none'}).")
        value = parse_json(self.body)
        if not isinstance(value, dict):
            raise ApiError(400, "invalid_json", "The request body must be a JSON object, not a "
                           f"{type(value).__name__}.")
        return value


class _Refused(ValueError):
    """A JSON value parse_json refuses (its message names it for the client)."""


def _refuse_constant(name: str):
    raise _Refused(f"{name} is not a JSON number")


def _number(convert):
    def parse(text: str):
        if len(text) > MAX_JSON_NUMBER_DIGITS:  # before the conversion, which is quadratic in the digits
            raise _Refused(f"a number has {len(text)} characters, more than {MAX_JSON_NUMBER_DIGITS}")
        return convert(text)
    return parse


def parse_json(body: bytes):
    """Strict JSON (no NaN or Infinity, numbers of at most MAX_JSON_NUMBER_DIGITS characters, nesting within
    the interpreter's recursion limit), or a 400 invalid_json."""
    if not body.strip():
        raise ApiError(400, "invalid_json", f"The request body is empty. Send a JSON object with "
                       f"Content-Type: {JSON_MEDIA_TYPE}.")
    try:
        return json.loads(body, parse_constant=_refuse_constant, parse_int=_number(int), parse_float=_number(float))
    except RecursionError:
        detail = ": it nests arrays or objects too deeply"
    except _Refused as error:
        detail = f": {error}"
    except json.JSONDecodeError as error:
        detail = f" (line {error.lineno}, column {error.colno})"
    except ValueError:  # not UTF-8 (or UTF-16/32)
        detail = ": it is not UTF-8 text"
    raise ApiError(400, "invalid_json", f"The request body is not valid JSON{detail}. Send a JSON object with "
                   f"Content-Type: {JSON_MEDIA_TYPE}.")


@dataclass
class Response:
    body: dict | bytes | None  # a dict is sent as JSON; bytes as they are (base64 in the proxy response)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds, for Server-Timing
    log: dict = field(default_factory=dict)  # extra fields for the request's log line


Route = Callable[[Request], "Response | dict"]
Routes = dict[str, dict[str, Route]]  # a path, or a template with {name} segments -> method -> route


def match_route(routes: Routes, path: str) -> tuple[dict[str, Route], dict[str, str]] | None:
    """The methods of the route for `path` and the template's parameters, or None: a path itself first, then the
    templates in their order, each `{name}` standing for one whole segment."""
    if path in routes:
        return routes[path], {}
    for template, methods in routes.items():
        found = "{" in template and _template_pattern(template).fullmatch(path)
        if found:
            return methods, found.groupdict()
    return None


@cache
def _template_pattern(template: str) -> re.Pattern:
    return re.compile("/".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") and part.endswith("}")
                               else re.escape(part) for part in template.split("/")))


def log(message: str, level: str = "INFO", **fields) -> None:
    """One JSON object per line on stdout: CloudWatch (and the dev server's console) keeps it whole."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "level": level, "message": message}
    record.update(fields)
    print(json.dumps(record, default=str, separators=(",", ":")), flush=True)


def parse_event(event: dict, context) -> Request:
    """A REST (v1) or HTTP API (v2) proxy event as a Request."""
    request_context = event.get("requestContext") or {}
    if event.get("version") == "2.0":
        method = request_context.get("http", {}).get("method", "GET")
        path = event.get("rawPath") or "/"
        stage = request_context.get("stage") or "$default"
        if stage != "$default" and (path == f"/{stage}" or path.startswith(f"/{stage}/")):
            path = path[len(stage) + 1:]
    else:
        method = event.get("httpMethod") or "GET"
        path = event.get("path") or "/"
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid_request", "The request body is marked base64 "
                           "but is not valid base64.") from None
    elif isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    # A Lambda authorizer's context: under `lambda` in a v2 event, the authorizer object itself in a v1 one.
    authorizer = request_context.get("authorizer")
    if event.get("version") == "2.0":
        authorizer = authorizer.get("lambda") if isinstance(authorizer, dict) else None
    return Request(
        method=method.upper(),
        path=path.rstrip("/") or "/",
        query={k: v for k, v in (event.get("queryStringParameters") or {}).items() if v is not None},
        headers={k.lower(): v for k, v in (event.get("headers") or {}).items() if v is not None},
        body=body,
        request_id=getattr(context, "aws_request_id", None) or request_context.get("requestId") or "local",
        authorizer=authorizer if isinstance(authorizer, dict) else {},
    )


# CORS, defined once: the origin comes from ALLOWED_ORIGIN (template.yaml sets it; `*` when unset).
# Where it applies: locally (make dev, sam local) the browser gets these headers from here, preflights
# included. On AWS the HTTP API's CorsConfiguration answers preflights itself and replaces any CORS headers
# the backend sends, so there template.yaml's copy applies; test_template_policies.py holds it to these values.
CORS_ALLOW_HEADERS = ("Content-Type", "Authorization")  # Authorization: the training routes (JWT)
CORS_EXPOSE_HEADERS = ("Server-Timing", "X-Request-Id")
CORS_MAX_AGE_S = 600


def allowed_origin() -> str:
    return os.environ.get("ALLOWED_ORIGIN", "*")


def cors_headers() -> dict[str, str]:
    origin = allowed_origin()
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": ", ".join(CORS_EXPOSE_HEADERS),
        "Timing-Allow-Origin": origin,
    }
    if origin != "*":
        headers["Vary"] = "Origin"
    return headers


def preflight_headers(methods: str) -> dict[str, str]:
    """What a preflight (OPTIONS) answer adds to cors_headers, for a route taking `methods`."""
    return {"Access-Control-Allow-Methods": methods, "Access-Control-Allow-Headers": ", ".join(CORS_ALLOW_HEADERS),
            "Access-Control-Max-Age": str(CORS_MAX_AGE_S)}


def server_timing(timings: dict[str, float]) -> str:
    """`decode;dur=4.1, inference;dur=512.0` from {"decode_ms": 4.1, "inference_ms": 512.0}."""
    return ", ".join(f"{name.removesuffix('_ms')};dur={ms:.1f}" for name, ms in timings.items())


def proxy_response(response: Response, request_id: str) -> dict:
    headers = {**cors_headers(), "X-Request-Id": request_id, **response.headers}
    body, binary = "", isinstance(response.body, bytes)
    if binary:
        headers.setdefault("Content-Type", "application/octet-stream")
        body = base64.b64encode(response.body).decode("ascii")
    elif response.body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(response.body, separators=(",", ":"), allow_nan=False)
    if response.timings:
        headers["Server-Timing"] = server_timing(response.timings)
    return {"statusCode": response.status, "headers": headers, "body": body, "isBase64Encoded": binary}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def check_fields(body: dict, required: set[str], optional: set[str] = frozenset()) -> None:
    """400 for a missing or unknown field: a typo such as `preserve_colour` should not pass silently."""
    unknown = sorted(set(body) - required - optional)
    if unknown:
        raise ApiError(400, "invalid_request", f"Unknown field {shown(unknown[0])}. This route takes: "
                       f"{', '.join(sorted(required | optional))}.")
    missing = sorted(required - set(body))
    if missing:
        raise ApiError(400, "invalid_request", f"The field {missing[0]!r} is required.")


def typed_field(body: dict, name: str, kinds, default):
    """body[name] if it has one of the JSON types wanted (true is not a number here), else a 400."""
    if name not in body:
        return default
    value = body[name]
    wanted = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, bool) != (bool in wanted) or not isinstance(value, wanted):
        names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}
        raise ApiError(400, "invalid_request", f"{name!r} must be {' or '.join(names[k] for k in wanted)}.")
    return value


def handle(event: dict, context, routes: Routes, caller: Callable[[Request], str | None] | None = None) -> dict:
    """Run the route an event asks for, and turn whatever happens into a proxy response. `caller`, where given,
    says who sent the request (None: nobody the handler accepts); it is set on the request as `request.caller`
    before the route runs, so it is per request, never left over from the one before."""
    global _cold_start
    started = time.perf_counter()
    cold_start, _cold_start = _cold_start, False
    request_id = getattr(context, "aws_request_id", None) or "local"
    method = path = None
    try:
        request = parse_event(event, context)
        request.received_at = started
        if caller is not None:
            request.caller = caller(request)
        request_id, method, path = request.request_id, request.method, request.path
        response = _dispatch(request, routes)
    except ApiError as error:
        response = Response(error_body(error.code, str(error)), error.status, error.headers,
                            log={"error_code": error.code})
    except Exception as error:  # noqa: BLE001 - a bug: log it whole, tell the client nothing internal
        response = _internal_error(error, request_id)
    total_ms = (time.perf_counter() - started) * 1000
    if response.timings:
        response.timings.setdefault("total_ms", round(total_ms, 1))  # a route may have measured its own
    try:
        proxy = proxy_response(response, request_id)
    except Exception as error:  # noqa: BLE001 - a body JSON cannot carry (a NaN from a model card, say): a bug
        response = _internal_error(error, request_id)
        proxy = proxy_response(response, request_id)
    log("request", request_id=request_id, method=method, path=path, status=response.status,
        duration_ms=round(total_ms, 1), cold_start=cold_start, **response.log,
        **({"timings": response.timings} if response.timings else {}))
    return proxy


def _internal_error(error: Exception, request_id: str) -> Response:
    log("unhandled error", "ERROR", request_id=request_id, exception="".join(traceback.format_exception(error)))
    return Response(error_body("internal_error", f"Something went wrong on our side (request {request_id})."),
                    500, log={"error_code": "internal_error", "error": repr(error)})


def shown(value, limit: int = 100) -> str:
    """A value a client sent, as an error message may quote it: repr, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _dispatch(request: Request, routes: Routes) -> Response:
    found = match_route(routes, request.path)
    if found is None:
        raise ApiError(404, "not_found", f"No route {shown(request.path)}. Routes: {', '.join(sorted(routes))}.")
    methods, request.params = found
    allowed = ", ".join([*sorted(methods), "OPTIONS"])
    if request.method == "OPTIONS":
        return Response(None, 204, preflight_headers(allowed))
    route = methods.get(request.method)
    if route is None:
        raise ApiError(405, "method_not_allowed", f"{request.path} takes {allowed}, not {shown(request.method, 20)}.",
                       {"Allow": allowed})
    if len(request.body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"The request body is {len(request.body) / 1e6:.1f} MB; the API takes "
                       f"at most {MAX_BODY_BYTES / 1e6:.1f} MB, base64 included (a photo of about 4.4 MB). "
                       "Scale the photo down or send it as a JPEG.")
    result = route(request)
    return result if isinstance(result, Response) else Response(result)
