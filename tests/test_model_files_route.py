"""The local stack serves model files for stylizing in the browser (GET /models/<file>), with the sha256 the
model card (and so GET /api/styles) gives, and sends COOP/COEP on every response (WebAssembly threads)."""

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from test_devserver_stack import start, stop

ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "credentialless"}


@pytest.fixture(scope="module")
def local_stack(onnx_models_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models_route")
    static = tmp / "dist"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>app</title>")
    (onnx_models_dir / "notes.txt").write_text("not a model file")
    process, url, log = start(onnx_models_dir, static, tmp)
    yield url
    assert stop(process) == 0


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_config_points_the_web_app_at_the_model_files_and_the_served_variant(local_stack):
    status, _, body = get(f"{local_stack}/config.json")
    assert status == 200
    config = json.loads(body)
    assert config["modelsBaseUrl"] == "/models"
    assert config["modelVariant"] == "halfres"  # the devserver's MODELS_VARIANT default, what the API serves


def test_every_style_file_named_in_the_catalog_is_served_with_the_cards_sha256(local_stack):
    _, _, body = get(f"{local_stack}/api/styles")
    styles = json.loads(body)["styles"]
    assert {s["id"] for s in styles} == {"test_a", "test_b"}
    for style in styles:
        status, headers, data = get(f"{local_stack}/models/{style['model']['file']}")
        assert status == 200
        assert headers["Content-Type"] == "application/octet-stream"
        assert len(data) == style["model"]["bytes"]
        assert hashlib.sha256(data).hexdigest() == style["model"]["sha256"]


@pytest.mark.parametrize("path", ["notes.txt", "..%2Fmodels%2Ftest_a.onnx", "%2E%2E/secret.txt", "missing.onnx",
                                  "TEST_A.onnx", "test_a.onnx/x"])
def test_only_model_files_and_cards_of_the_folder_are_served(local_stack, path):
    status, _, body = get(f"{local_stack}/models/{path}")
    assert status == 404
    assert b"onnx" not in body[:4] and b"not a model file" not in body


def test_a_card_is_served_as_json(local_stack):
    status, headers, body = get(f"{local_stack}/models/test_a.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["id"] == "test_a"


@pytest.mark.parametrize("path", ["/", "/config.json", "/api/styles", "/models/test_a.json", "/models/missing.onnx",
                                  "/api/nothing"])
def test_every_response_makes_the_page_cross_origin_isolated(local_stack, path):
    _, headers, _ = get(f"{local_stack}{path}")
    for name, value in ISOLATION.items():
        assert headers.get(name) == value, (path, name)


def test_model_files_are_read_only(local_stack):
    request = urllib.request.Request(f"{local_stack}/models/test_a.onnx", data=b"x", method="PUT")
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError("a PUT was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 405
