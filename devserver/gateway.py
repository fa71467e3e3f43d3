"""The API Gateway stand-in: HTTP requests in, proxy events to the real handlers, their responses out.

Routes mirror template.yaml: `ANY /styles` and `ANY /stylize` go to the inference function, `ANY /gallery`
to the gallery function, under the stage `api` (so `/api/styles`, as a named HTTP API stage would be).
Like API Gateway and Lambda, it refuses bodies over Lambda's payload limit before any handler runs.
`/models/<file>` serves the models folder's model files and cards, for the web app to stylize on the device
(on AWS, CloudFront serves them from the models' S3 prefix). Everything else is the built web app, with
`/config.json` pointing it at `/api` and `/models`. Every response carries COOP/COEP, so the page is
cross-origin isolated and WebAssembly can use threads, as CloudFront's response-headers policy does, and the
web app's Content-Security-Policy (frontend/content-security-policy.txt), whose violations it logs.

Only this machine's pages may use it: a request whose Host is not a loopback name or an IP address (DNS
rebinding: another site's name pointed at 127.0.0.1) or whose Origin is another site's is refused (403), and
CORS allows only the stack's own origin and the dev web app's (`npm run dev`).
"""

import base64
import ipaddress
import json
import mimetypes
import os
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

# on sys.path as on Lambda: python -m devserver puts it there
from apicommon.http import LAMBDA_PAYLOAD_BYTES, cors_headers, error_body

STAGE = "api"
FUNCTION_TIMEOUT_S = 29  # the functions' Timeout in template.yaml (API Gateway's own limit is 30 s)
MAX_PAYLOAD_BYTES = LAMBDA_PAYLOAD_BYTES  # Lambda's synchronous invocation limit: bodies over it never reach a handler
_DRAIN_LIMIT = 64 * 1024 * 1024  # read (and drop) this much of an oversize body so the client sees our 413
MODELS_PATH = "/models/"
MODEL_FILE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}(\.[a-z0-9_]{1,16})?\.(onnx|json)")  # stylecore.modelfiles names
# Cross-origin isolation (WebAssembly threads need it). credentialless, not require-corp: the gallery's
# thumbnails come from S3 presigned URLs on another origin, which send no Cross-Origin-Resource-Policy.
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "credentialless"}
# The web app's policy, one file for the local stack and the CDN: {gallery} is where the gallery's thumbnails
# come from (S3 presigned URLs), {auth} the sign-in domain the app exchanges tokens with (none locally), {videos}
# where clips are uploaded to and played from (S3 presigned POSTs and GETs).
CSP_FILE = Path(__file__).resolve().parent.parent / "frontend" / "content-security-policy.txt"
CSP_REPORT_PATH = "/csp-report"  # the browser posts each violation here; the console shows it (e2e tests fail)
MAX_CSP_REPORT_BYTES = 16_384
# Vite's dev server (`npm run dev`, frontend/vite.config.ts) proxies /api here from these pages.
DEV_APP_ORIGINS = ("http://localhost:5173", "http://127.0.0.1:5173")


def content_security_policy(gallery: str = "", auth: str = "", videos: str = "", report: bool = True) -> str:
    policy = " ".join(CSP_FILE.read_text().split())  # one line, single spaces
    for name, origins in (("gallery", gallery), ("auth", auth), ("videos", videos)):
        policy = policy.replace("{" + name + "}", origins)
    policy = " ".join(policy.split()).replace(" ;", ";")
    return f"{policy}; report-uri {CSP_REPORT_PATH}" if report else policy


def local_host(host: str, bound: str) -> bool:
    """Whether a Host header names this machine as a browser on it would: a loopback name, the address the stack
    listens on, or any IP address (a rebinding attack needs a DNS name of its own; an address is not one)."""
    if host.startswith("["):  # [::1]:8000
        name = host[1:].partition("]")[0]
    else:
        name = host.partition(":")[0] if host.count(":") == 1 else host  # name:port, or a bare name
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost") or name == bound.lower():
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


NO_APP_PAGE = """<!doctype html><meta charset="utf-8"><title>Fast neural style (local stack)</title>
<body>
<h1>Fast neural style: the local stack is running</h1>
<p>The web app is not built yet (no <code>{static}</code>): run <code>npm ci && npm run build</code> in
<code>frontend/</code>, or use the API directly:</p>
<ul><li><a href="/api/styles">GET /api/styles</a></li><li><a href="/api/gallery">GET /api/gallery</a></li>
<li>POST /api/stylize: see docs/api.md</li></ul></body>"""


class LambdaContext:
    """The parts of Lambda's context object handlers use."""

    def __init__(self, function_name: str, memory_mb: int = 3008, timeout_s: int = 29):
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def proxy_event(method: str, path: str, query: str, headers: dict, body: bytes, route: str) -> dict:
    """The HTTP API payload 2.0 event API Gateway builds for a request."""
    text_body = None
    is_base64 = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:  # API Gateway base64-encodes what is not text
            text_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    query_params = {}
    for key, value in parse_qsl(query, keep_blank_values=True):  # repeated keys: joined with commas, as AWS does
        query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
    event = {
        "version": "2.0",
        "routeKey": f"ANY {route}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "requestId": uuid.uuid4().hex, "routeKey": f"ANY {route}", "stage": STAGE,
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if query_params:
        event["queryStringParameters"] = query_params
    if text_body is not None:
        event["body"] = text_body
    return event


def function_for(functions: dict, method: str, route: str):
    """The (name, handler) for a request, as API Gateway picks a route: `POST /styles` before `/styles` (ANY),
    an exact path before a template such as `/jobs/{id}`."""
    for key in (f"{method} {route}", route):
        if key in functions:
            return functions[key]
    for key, function in functions.items():
        template = key.split(" ")[-1]
        if "{" in template and key in (template, f"{method} {template}") and \
                re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), route):
            return function
    return None


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # http.server's 5 reset connections under a burst of uploads

    def __init__(self, address, functions: dict, static_dir: Path, models_dir: Path | None = None,
                 allowed_origins=DEV_APP_ORIGINS, csp: str | None = None):
        """functions: route ("/styles", "POST /styles", "/jobs/{id}") -> (function name, handler callable);
        allowed_origins: other pages than the stack's own that may call it (CORS); csp: the pages' policy."""
        self.functions = functions
        self.static_dir = Path(static_dir).resolve()
        self.models_dir = Path(models_dir).resolve() if models_dir else None
        self.allowed_origins = set(allowed_origins)
        self.csp = csp if csp is not None else content_security_policy()
        super().__init__(address, RequestHandler)
        self.bound_host = address[0]
        self.own_origin = f"http://{address[0]}:{self.server_address[1]}"


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devserver"
    timeout = 60  # a client that stops sending mid-body is dropped, not waited on forever
    server: Gateway

    def version_string(self) -> str:  # the Server header names no Python version
        return self.server_version

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def __getattr__(self, name: str):
        """Every other method (TRACE, PROPFIND, made-up verbs) is dispatched too, as API Gateway's ANY routes send
        them to the handler, which answers 405 with the contract's body, not http.server's HTML 501."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format, *args):  # the handlers log each API request as JSON; keep the console readable
        pass

    def _dispatch(self):
        self._chunked_body = None  # one handler serves every request of a keep-alive connection
        self._origin = None
        url = urlsplit(self.path)
        if not self._from_this_machine():
            return
        if url.path == CSP_REPORT_PATH:
            self._csp_report()
        elif url.path == f"/{STAGE}" or url.path.startswith(f"/{STAGE}/"):
            self._api(url.path, url.query)
        elif url.path == "/config.json":
            config = {"apiBaseUrl": f"/{STAGE}", "modelsBaseUrl": MODELS_PATH.rstrip("/"),
                      "modelVariant": os.environ.get("MODELS_VARIANT") or "fp32"}  # what the API serves
            self._send(200, {"Content-Type": "application/json", "Cache-Control": "no-store"},
                       json.dumps(config).encode())
        elif url.path.startswith(MODELS_PATH):
            self._drain(self._body_length() or 0)
            self._model_file(unquote(url.path[len(MODELS_PATH):]))
        else:
            self._drain(self._body_length() or 0)
            self._static(unquote(url.path))

    def _from_this_machine(self) -> bool:
        """Refuse (403) a request for another host name (DNS rebinding) or from another site's page (its Origin):
        the local stack has no sign-in, so any page able to call it could list, start or delete the jobs."""
        host = self.headers.get("Host")
        if host is not None and not local_host(host, self.server.bound_host):
            self.close_connection = True
            self._error(403, "forbidden_host", "The local stack answers only to this machine's names (localhost, "
                        "127.0.0.1): this request's Host header names another.")
            return False
        origin = self.headers.get("Origin")
        if origin is not None:
            same_site = host is not None and origin == f"http://{host}"
            if not same_site and origin not in self.server.allowed_origins:
                self.close_connection = True
                self._error(403, "forbidden_origin", "The local stack takes requests only from its own pages and "
                            "the dev web app (npm run dev): this request comes from another site's page.")
                return False
            self._origin = origin
        return True

    def _csp_report(self):
        length = self._body_length() or 0
        if self.command != "POST" or length > MAX_CSP_REPORT_BYTES:
            self._drain(length)
            return self._send(400, {"Content-Type": "text/plain"}, b"A CSP report is a POST of at most 16 kB\n")
        report = self._read_body(length).decode("utf-8", "replace")
        print(f"devserver: CSP violation: {' '.join(report.split())[:2000]}", flush=True)
        self._send(204, {}, b"")

    # ------------------------------------------------------------------------------------------ API
    def _api(self, path: str, query: str):
        route = path[len(STAGE) + 1:].rstrip("/") or "/"
        length = self._body_length()
        if length is None:
            self.close_connection = True
            return self._error(400, "invalid_request", "The Content-Length header is not a number, or a chunk of the "
                               "chunked body is malformed.")
        if length > MAX_PAYLOAD_BYTES:
            self._drain(length)
            return self._error(413, "payload_too_large", f"The request body is {length / 1e6:.1f} MB; Lambda takes at "
                               "most 6 MB, base64 included. Scale the photo down or send it as a JPEG.")
        body = self._read_body(length)
        found = function_for(self.server.functions, self.command, route)
        if found is None:
            routes = ", ".join(sorted({key.split(" ")[-1] for key in self.server.functions}))
            return self._error(404, "not_found", f"No route {route}. Routes: {routes}.")
        name, handler = found
        event = proxy_event(self.command, path, query, dict(self.headers), body, route)
        try:
            response = self._invoke(name, handler, event)
            headers = dict(response.get("headers") or {})
            payload = response.get("body") or ""
            payload = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8")
            status = int(response["statusCode"])
        except Exception as error:  # what API Gateway answers when a function fails
            print(f"devserver: {name} failed: {error!r}", flush=True)
            status, headers, payload = 500, {"Content-Type": "application/json"}, b'{"message":"Internal Server Error"}'
        self._send(status, headers, payload)

    def _invoke(self, name: str, handler, event: dict) -> dict:
        """The function's response within its timeout (FUNCTION_TIMEOUT_S, as template.yaml's), else an error, as
        Lambda stops a function at its timeout and API Gateway then answers 500."""
        context, outcome = LambdaContext(name, timeout_s=FUNCTION_TIMEOUT_S), {}

        def run():
            try:
                outcome["response"] = handler(event, context)
            except Exception as error:  # noqa: BLE001 - reported by the caller, as Lambda reports it
                outcome["error"] = error
        worker = threading.Thread(target=run, name=f"{name} invocation", daemon=True)
        worker.start()
        worker.join(FUNCTION_TIMEOUT_S)
        if "response" in outcome:
            return outcome["response"]
        raise outcome.get("error") or TimeoutError(f"Task timed out after {FUNCTION_TIMEOUT_S} seconds")

    def _error(self, status: int, code: str, message: str):
        body = json.dumps(error_body(code, message)).encode()
        self._send(status, {"Content-Type": "application/json", **cors_headers()}, body)

    # ------------------------------------------------------------------------------------- requests
    def _body_length(self) -> int | None:
        """The declared body size; for a chunked body, read it now and return its size; None if malformed."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        if "Content-Length" not in self.headers:  # HTTP/1.1: no length, no chunks, no body
            return 0
        try:
            return max(0, int(self.headers.get("Content-Length", "")))
        except ValueError:
            return None

    def _read_chunked(self) -> int | None:
        """Read a chunked body: its size, or None where a chunk is malformed. It is kept (self._chunked_body) only
        within the payload limit; beyond, it is read and dropped up to _DRAIN_LIMIT, then the connection closes."""
        chunks, total = [], 0
        while True:
            try:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
            except ValueError:
                size = -1
            if size < 0:
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                break
            total += size
            if total > _DRAIN_LIMIT:
                self.close_connection = True
                break
            while size > 0:
                data = self.rfile.read(min(size, 1 << 20))
                if not data:
                    return None
                size -= len(data)
                if total <= MAX_PAYLOAD_BYTES:  # keep only what could be used; the length check refuses the rest
                    chunks.append(data)
            self.rfile.readline(1024)
        self._chunked_body = b"".join(chunks) if total <= MAX_PAYLOAD_BYTES else b""
        return total

    def _read_body(self, length: int) -> bytes:
        return self._chunked_body if self._chunked_body is not None else self.rfile.read(length)

    def _drain(self, length: int):
        if self._chunked_body is not None:
            return
        if length > _DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    # ------------------------------------------------------------------------------ model files
    def _model_file(self, name: str):
        """A model file or card of the models folder, by its exact name (nothing else in the folder)."""
        folder = self.server.models_dir
        target = folder / name if folder and MODEL_FILE.fullmatch(name) else None
        if self.command not in ("GET", "HEAD"):
            return self._send(405, {"Content-Type": "text/plain", "Allow": "GET, HEAD"}, b"Method not allowed\n")
        if target is None or not target.is_file():
            return self._send(404, {"Content-Type": "text/plain"}, b"No such model file\n")
        content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
        # The web app checks each file's sha256 and keeps it in Cache Storage; HTTP caching adds nothing.
        self._send(200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, target.read_bytes())

    # --------------------------------------------------------------------------------- the web app
    def _static(self, path: str):
        root = self.server.static_dir
        if not (root / "index.html").is_file():
            if path in ("/", "/index.html"):
                page = NO_APP_PAGE.format(static=root).encode()
                return self._send(200, {"Content-Type": "text/html; charset=utf-8"}, page)
            return self._send(404, {"Content-Type": "text/plain"}, b"Not found (the web app is not built)\n")
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root):
            return self._send(404, {"Content-Type": "text/plain"}, b"Not found\n")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            if "." in Path(path).name:  # a missing asset is a 404; anything else is an app route
                return self._send(404, {"Content-Type": "text/plain"}, b"Not found\n")
            target = root / "index.html"
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        self._send(200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, target.read_bytes())

    def _send(self, status: int, headers: dict, body: bytes):
        if any(name.lower() == "access-control-allow-origin" for name in headers):
            # The handlers' ALLOWED_ORIGIN is the stack's own origin; a dev web app's page, admitted above, gets its
            # own. Never `*`: any site's page could then read the answers.
            vary = [value for name, value in headers.items() if name.lower() == "vary" and value != "Origin"]
            headers = {name: value for name, value in headers.items()
                       if name.lower() not in ("access-control-allow-origin", "timing-allow-origin", "vary")}
            allowed = self._origin or self.server.own_origin
            headers.update({"Access-Control-Allow-Origin": allowed, "Timing-Allow-Origin": allowed,
                            "Vary": ", ".join([*vary, "Origin"])})
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        if self.server.csp:
            self.send_header("Content-Security-Policy", self.server.csp)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
