"""Helpers for the backend tests: proxy events, handler loading, and checks against openapi.yaml."""

import base64
import importlib.util
import io
import json
import sys
import uuid
from pathlib import Path

import jsonschema
import yaml
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = yaml.safe_load((ROOT / "openapi.yaml").read_text())
_REGISTRY = Registry().with_resource("urn:openapi", Resource.from_contents(OPENAPI, default_specification=DRAFT202012))


class FakeContext:
    """What Lambda passes as `context`, as far as our handlers look."""

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "test"
        self.memory_limit_in_mb = 3008

    def get_remaining_time_in_millis(self):
        return 29_000


def load_handler(folder: str):
    """lambda_<folder>/app.py as a fresh module (both handlers are called app.py, as Lambda wants)."""
    name = f"{folder}_app_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def http_event(method: str, path: str, body=None, query=None, version: int = 2, base64_body: bool = False,
               stage: str = "$default") -> dict:
    """An API Gateway proxy event: HTTP API (payload 2.0) or REST API (payload 1.0)."""
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    if isinstance(body, bytes):
        body = base64.b64encode(body).decode() if base64_body else body.decode()
    elif base64_body and body is not None:
        body = base64.b64encode(body.encode()).decode()
    headers = {"content-type": "application/json", "host": "api.example.com"}
    if version == 2:
        raw_path = path if stage == "$default" else f"/{stage}{path}"
        return {"version": "2.0", "routeKey": f"ANY {path}", "rawPath": raw_path, "rawQueryString": "",
                "headers": headers, "queryStringParameters": query, "body": body, "isBase64Encoded": base64_body,
                "requestContext": {"http": {"method": method, "path": raw_path}, "requestId": "r", "stage": stage}}
    return {"resource": path, "path": path, "httpMethod": method, "headers": headers, "queryStringParameters": query,
            "body": body, "isBase64Encoded": base64_body, "requestContext": {"requestId": "r", "stage": "prod"}}


def invoke(module, event: dict) -> tuple[int, dict, dict | bytes | None]:
    """Call a handler; (status, headers, JSON body, the bytes of a binary one, or None)."""
    response = module.handler(event, FakeContext())
    assert set(response) >= {"statusCode", "headers", "body"}
    json.dumps(response)  # a proxy response must be JSON-serialisable as a whole
    if response.get("isBase64Encoded"):
        return response["statusCode"], response["headers"], base64.b64decode(response["body"], validate=True)
    body = json.loads(response["body"]) if response["body"] else None
    return response["statusCode"], response["headers"], body


def assert_contract(path: str, method: str, status: int, headers: dict, body) -> None:
    """The response is one openapi.yaml documents for this route: status, JSON schema, CORS header."""
    operation = OPENAPI["paths"][path][method.lower()]
    assert str(status) in operation["responses"], f"{method} {path} does not document status {status}"
    spec = operation["responses"][str(status)]
    if "$ref" in spec:
        spec = OPENAPI["components"]["responses"][spec["$ref"].rsplit("/", 1)[-1]]
    assert headers.get("Access-Control-Allow-Origin"), "every response carries CORS headers"
    if "content" not in spec:
        assert body is None
        return
    (media_type,) = spec["content"]
    assert headers.get("Content-Type") == media_type
    if media_type != "application/json":
        assert isinstance(body, bytes) and body, "a binary response is its file's bytes"
        return
    schema = spec["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({"$ref": "urn:openapi" + schema["$ref"]}, registry=_REGISTRY).validate(body)


def image_bytes(width: int, height: int, fmt: str = "JPEG", mode: str = "RGB", seed: int = 0) -> bytes:
    """A small image file with some structure (gradients), in any PIL format and mode."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], -1)
    rgb = (rgb + rng.integers(0, 20, rgb.shape)).clip(0, 255).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert(mode).save(buffer, format=fmt)
    return buffer.getvalue()
