"""The local stack as users and the e2e tests run it: `python -m devserver` in its own process, over HTTP."""

import base64
import http.client
import json
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(models, static, tmp_path):
    port = free_port()
    log = open(tmp_path / f"devserver-{port}.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "devserver", "--port", str(port), "--models", str(models),
                                "--static", str(static)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
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
    assert status == 200 and json.loads(body) == {"apiBaseUrl": "/api"}


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
    assert headers["Access-Control-Allow-Origin"] == "*"


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
