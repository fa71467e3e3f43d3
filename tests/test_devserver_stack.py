"""The local stack as users and the e2e tests run it: `python -m devserver` in its own process, over HTTP."""

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from api_helpers import ROOT, assert_contract, image_bytes
from checkout import checkout_jobs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(models, static, tmp_path, env=None, jobs_dir=None):
    """python -m devserver on a free port; its jobs (POST /styles) live in tmp_path/jobs-<port> (or jobs_dir),
    never in the checkout's runs/jobs (the default of `make dev`, whose jobs a developer sees)."""
    port = free_port()
    log = open(tmp_path / f"devserver-{port}.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "devserver", "--port", str(port), "--models", str(models),
                                "--static", str(static), "--jobs-dir", str(jobs_dir or tmp_path / f"jobs-{port}")],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.seek(0) or log.read()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/config.json", timeout=2)
            return process, f"http://127.0.0.1:{port}", log
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("devserver did not answer")


def stop(process) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=15)


@pytest.fixture(scope="module")
def stack(onnx_models_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("devserver")
    static = tmp / "dist"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>app</title>")
    (static / "assets" / "app.js").write_text("console.log('app')")
    (tmp_path_factory.getbasetemp() / "secret.txt").write_text("secret")
    process, url, log = start(onnx_models_dir, static, tmp)
    yield url
    assert stop(process) == 0
    log.seek(0)
    assert "stopped" in log.read()


def request(url, method="GET", body=None, headers=None):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json",
                                                                         **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def api(stack, method, route, body=None):
    status, headers, raw = request(f"{stack}/api{route}", method, body)
    payload = json.loads(raw) if raw else None
    assert_contract(route, method, status, headers, payload)
    return status, headers, payload


def test_config_points_the_app_at_the_local_api(stack):
    status, headers, body = request(f"{stack}/config.json")
    assert status == 200 and json.loads(body)["apiBaseUrl"] == "/api"  # the model-file keys: test_model_files_route


def test_serves_the_built_app_with_spa_fallback_and_no_escape(stack):
    assert request(f"{stack}/")[2] == b"<!doctype html><title>app</title>"
    assert request(f"{stack}/some/app/route")[2] == b"<!doctype html><title>app</title>"
    status, headers, body = request(f"{stack}/assets/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript") and body == b"console.log('app')"
    assert request(f"{stack}/assets/missing.js")[0] == 404
    host, port = stack.removeprefix("http://").split(":")
    for path in ("/../../secret.txt", "/..%2f..%2fsecret.txt", "/assets/../../../secret.txt"):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        assert b"secret" not in response.read()
        connection.close()


def test_styles_and_stylize_over_http(stack):
    status, headers, body = api(stack, "GET", "/styles")
    assert status == 200 and [s["id"] for s in body["styles"]] == ["test_a", "test_b"]
    photo = base64.b64encode(image_bytes(50, 40)).decode()
    status, headers, body = api(stack, "POST", "/stylize", {"image": photo, "style": "test_a", "format": "png"})
    assert status == 200 and (body["width"], body["height"]) == (50, 40)
    assert re.search(r"inference;dur=[\d.]+", headers["Server-Timing"])
    assert headers["Access-Control-Allow-Origin"] == stack  # its own origin, never `*`


def test_gallery_is_seeded_with_the_sample_photos_and_served_from_local_s3(stack):
    status, _, listing = api(stack, "GET", "/gallery")
    samples = sorted(p.name for p in (ROOT / "sample_gallery").glob("*.jpg"))
    assert status == 200 and [item["name"] for item in listing["images"]] == samples
    first = listing["images"][0]
    presigned_status, _, presigned_bytes = request(first["url"], headers={"Content-Type": ""})
    assert presigned_status == 200 and presigned_bytes == (ROOT / "sample_gallery" / first["name"]).read_bytes()
    status, _, image = api(stack, "POST", "/gallery", {"key": first["key"]})
    assert base64.b64decode(image["image"]) == presigned_bytes
    status, _, result = api(stack, "POST", "/stylize", {"gallery_key": first["key"], "style": "test_b",
                                                        "max_size": 128})
    assert status == 200 and max(result["width"], result["height"]) == 128


def test_bad_requests_get_their_4xx(stack):
    status, _, body = api(stack, "POST", "/stylize", b"\x00" * 6_400_000)
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    status, _, body = api(stack, "POST", "/gallery", {"key": "gallery/../../etc/passwd.jpg"})
    assert status == 400 and body["error"]["code"] == "invalid_key"
    status, headers, raw = request(f"{stack}/api/styles", "DELETE")
    assert status == 405 and json.loads(raw)["error"]["code"] == "method_not_allowed"
    status, _, raw = request(f"{stack}/api/nope")
    assert status == 404 and json.loads(raw)["error"]["code"] == "not_found"


def test_an_empty_models_folder_is_reported_and_served_as_no_styles(tmp_path):
    (tmp_path / "models").mkdir()
    process, url, log = start(tmp_path / "models", tmp_path / "no-app", tmp_path)
    try:
        assert json.loads(request(f"{url}/api/styles")[2]) == {"styles": []}
        assert b"not built" in request(f"{url}/")[2]
    finally:
        assert stop(process) == 0
    log.seek(0)
    assert "has no models" in log.read()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io", "localhost.evil.example"])
def test_another_host_name_is_refused_dns_rebinding(stack, host):
    """A page of evil.example whose name is re-pointed at 127.0.0.1 reaches the stack as its own origin: its Host
    header still names evil.example."""
    for path in ("/api/jobs", "/api/styles", "/config.json", "/"):
        status, _, raw = request(f"{stack}{path}", headers={"Host": host})
        assert status == 403 and json.loads(raw)["error"]["code"] == "forbidden_host"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST.", "app.localhost", "[::1]"])
def test_this_machines_names_are_served(stack, host):
    port = stack.rsplit(":", 1)[1]
    assert request(f"{stack}/api/styles", headers={"Host": f"{host}:{port}"})[0] == 200


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1", "http://localhost:5174"])
def test_another_sites_page_is_refused(stack, method, origin):
    status, headers, raw = request(f"{stack}/api/jobs", method, headers={"Origin": origin})
    assert status == 403 and json.loads(raw)["error"]["code"] == "forbidden_origin"
    assert headers["Access-Control-Allow-Origin"] == stack


@pytest.mark.parametrize("origin", ["own", "http://localhost:5173", "http://127.0.0.1:5173"])
def test_its_own_pages_and_the_dev_web_apps_are_allowed_their_origin(stack, origin):
    origin = stack if origin == "own" else origin
    status, headers, _ = request(f"{stack}/api/styles", headers={"Origin": origin})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == origin and "Origin" in headers["Vary"]
    status, headers, _ = request(f"{stack}/api/jobs", "OPTIONS", headers={"Origin": origin})
    assert status == 204 and headers["Access-Control-Allow-Origin"] == origin


def test_pages_carry_the_web_apps_content_security_policy_and_violations_are_logged(stack):
    from devserver.gateway import content_security_policy

    for path in ("/", "/assets/app.js", "/config.json"):
        policy = request(f"{stack}{path}")[1]["Content-Security-Policy"]
        directives = dict((d.split(" ", 1) + [""])[:2] for d in policy.split("; "))
        assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
        assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"  # onnxruntime-web compiles WebAssembly
        assert "unsafe-inline" not in policy and "*" not in policy and "unsafe-eval'" not in policy.replace(
            "wasm-unsafe-eval'", "")
        assert re.fullmatch(r"'self' data: blob: http://127\.0\.0\.1:\d+", directives["img-src"])  # local S3
        s3 = directives["img-src"].split()[-1]
        assert directives["media-src"] == f"'self' blob: {s3}"  # videos play from, and upload to, the local S3
        assert directives["connect-src"] == f"'self' blob: data: {s3}"
        assert directives["report-uri"] == "/csp-report"
    assert policy == content_security_policy(gallery=s3, videos=s3)  # the one file's policy
    report = {"csp-report": {"document-uri": f"{stack}/", "violated-directive": "script-src-elem"}}
    status, _, _ = request(f"{stack}/csp-report", "POST", report, headers={"Content-Type": "application/csp-report"})
    assert status == 204


def test_a_test_stacks_jobs_live_in_its_own_temporary_folder(onnx_models_dir, tmp_path):
    """A job posted to a test's stack is recorded in that test's folder, and nothing of it in the checkout's
    runs/jobs. The trainer is a stand-in that fails at once (no training on the test machine's CPU)."""
    before = checkout_jobs()
    process, url, log = start(onnx_models_dir, tmp_path / "no-app", tmp_path, env={"TRAINER_PYTHON": "/bin/false"})
    try:
        painting = base64.b64encode(image_bytes(96, 80, "PNG", seed=3)).decode()
        status, _, job = api(url, "POST", "/styles", {"name": "Mine", "image": painting})
        assert status == 202
        records = list(tmp_path.glob(f"jobs-*/users/local/{job['id']}.json"))
        assert len(records) == 1
    finally:
        assert stop(process) == 0
    assert checkout_jobs() == before
    assert not any(job["id"] in str(path) for path in checkout_jobs())


def raw_exchange(stack, request_bytes: bytes, timeout: float = 30) -> bytes:
    """Send raw bytes on a fresh connection; all the server answers before it closes (or stops talking)."""
    host, port = stack.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(request_bytes)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and b'"error"' in received:
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return received


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_every_method_reaches_the_handler_and_gets_its_405(stack, method):
    status, headers, raw = request(f"{stack}/api/styles", method)
    assert status == 405 and json.loads(raw)["error"]["code"] == "method_not_allowed"
    assert headers["Access-Control-Allow-Origin"] == stack and headers["Content-Type"] == "application/json"


def test_the_server_header_names_no_python_version(stack):
    _, headers, _ = request(f"{stack}/api/styles")
    assert headers["Server"] == "devserver"


@pytest.mark.parametrize("chunks, status", [
    (b"zz\r\nabc\r\n0\r\n\r\n", b"400"),  # a chunk size that is not hex
    (b"%x\r\n" % 7_000_000 + b"x" * 7_000_000 + b"\r\n0\r\n\r\n", b"413"),  # one chunk over the limit
])
def test_malformed_and_oversize_chunked_bodies_get_their_4xx(stack, chunks, status):
    head = (b"POST /api/stylize HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    answer = raw_exchange(stack, head + chunks)
    assert answer.startswith(b"HTTP/1.1 " + status) and b'"error"' in answer


def test_a_burst_of_concurrent_uploads_is_queued_not_reset(stack):
    """http.server's listen backlog of 5 reset connections under a burst; every request here gets its answer."""
    from concurrent.futures import ThreadPoolExecutor

    body = {"image": "A" * 3_000_000, "style": "test_a"}  # decodes to 2.25 MB of zeros: 400 invalid_image
    with ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(lambda _: request(f"{stack}/api/stylize", "POST", body)[0], range(24)))
    assert statuses == [400] * 24


def test_a_function_past_its_timeout_gets_what_api_gateway_answers(monkeypatch, tmp_path):
    """The 29 s of Lambda and API Gateway, enforced locally: here shortened to 0.5 s."""
    import threading

    from devserver import gateway

    release = threading.Event()
    monkeypatch.setattr(gateway, "FUNCTION_TIMEOUT_S", 0.5)
    server = gateway.Gateway(("127.0.0.1", 0), {"/slow": ("Slow", lambda event, context: release.wait(30))},
                             tmp_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        status, _, raw = request(f"http://127.0.0.1:{server.server_address[1]}/api/slow")
        assert status == 500 and json.loads(raw) == {"message": "Internal Server Error"}
        assert time.monotonic() - started < 10
    finally:
        release.set()
        server.shutdown()
        server.server_close()
