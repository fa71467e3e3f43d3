"""The request layer against hostile callers: whatever a request carries, the answer is 200 or a documented 4xx
with the JSON error body, never a 5xx. Property-based (hypothesis) over every field of openapi.yaml's request
schemas, plus the inputs that once gave 500s: deep nesting, 5,000-digit numbers, NaN, wrong content types."""

import base64
import json

import pytest
from api_helpers import OPENAPI, assert_contract, http_event, image_bytes, invoke, load_handler
from apicommon.http import handle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gallery_handler import gallery  # noqa: F401 - the fixture: the gallery Lambda on moto S3
from test_handler_inference import inference  # noqa: F401 - the fixture: the inference Lambda on real models

PHOTO = base64.b64encode(image_bytes(12, 10)).decode()
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Any JSON value, nested a little: what a stranger may put in any field.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)
# Values near the valid ones for each field, so that examples also get past the first check.
NEAR_VALID = {
    "image": st.sampled_from([PHOTO, "data:image/jpeg;base64," + PHOTO, "", "@@", PHOTO[:40]]),
    "gallery_key": st.sampled_from(["gallery/astronaut.jpg", "gallery/missing.jpg", "gallery/../x.jpg"]),
    "key": st.sampled_from(["gallery/photo_01.jpg", "gallery/missing.jpg", "gallery/empty.jpg", "gallery/notes.txt"]),
    "style": st.sampled_from(["test_a", "test_b", "van_gogh"]),
    "strength": st.floats(-0.5, 1.5) | st.integers(-2, 2),
    "max_size": st.integers(0, 5000),
    "quality": st.integers(-5, 105),
    "format": st.sampled_from(["jpeg", "jpg", "png", "webp", "gif", "JPEG"]),
    "preserve_color": st.booleans(),
}


def bodies(schema_name: str):
    """Objects with any subset of the schema's fields (any JSON value, or one near a valid value), and sometimes
    a field the schema does not have."""
    fields = OPENAPI["components"]["schemas"][schema_name]["properties"]
    values = {name: NEAR_VALID.get(name, json_values) | json_values for name in fields}
    return st.fixed_dictionaries({}, optional=values) | st.dictionaries(st.text(max_size=12), json_values, max_size=4)


def documented(path: str, method: str) -> set[int]:
    return {int(status) for status in OPENAPI["paths"][path][method.lower()]["responses"]}


def answer(module, path, method, body=None, query=None, headers=None):
    """Call the handler; assert the answer is a documented non-5xx that keeps the contract; (status, body)."""
    event = http_event(method, path, body, query, base64_body=isinstance(body, bytes))  # bytes: as API Gateway
    event["headers"].update(headers or {})
    status, got_headers, payload = invoke(module, event)
    assert status < 500, payload
    assert status in documented(path, method), (status, payload)
    assert_contract(path, method, status, got_headers, payload)
    return status, payload


@SETTINGS
@given(body=bodies("StylizeRequest"))
def test_any_stylize_body_gets_200_or_a_documented_4xx(inference, body):  # noqa: F811
    status, payload = answer(inference, "/stylize", "POST", json.dumps(body))
    if status == 200:
        assert base64.b64decode(payload["image"])


@SETTINGS
@given(body=bodies("GalleryImageRequest"))
def test_any_gallery_body_gets_200_or_a_documented_4xx(gallery, body):  # noqa: F811
    answer(gallery[0], "/gallery", "POST", json.dumps(body))


@SETTINGS
@given(query=st.dictionaries(st.sampled_from(["limit", "cursor", "other"]), st.text(max_size=30), max_size=3))
def test_any_gallery_query_gets_200_or_400(gallery, query):  # noqa: F811
    status, _ = answer(gallery[0], "/gallery", "GET", query=query)
    assert status in (200, 400)


@SETTINGS
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_raw_body_gets_a_documented_4xx(inference, raw):  # noqa: F811
    status, payload = answer(inference, "/stylize", "POST", raw)
    assert 400 <= status < 500, payload


@pytest.mark.parametrize("raw, detail", [
    ("[" * 100_000, "too deeply"),
    ('{"style": "test_a", "max_size": ' + "9" * 5000 + "}", "characters"),
    ('{"style": "test_a", "strength": ' + "1" * 5000 + ".5}", "characters"),
    ('{"style": "test_a", "strength": NaN}', "NaN"),
    ('{"style": "test_a", "strength": -Infinity}', "Infinity"),
    (b'{"style": "\xff\xfe"}', "UTF-8"),
])
def test_bodies_that_once_raised_in_the_parser_are_400(inference, raw, detail):  # noqa: F811
    status, payload = answer(inference, "/stylize", "POST", raw)
    assert status == 400 and payload["error"]["code"] == "invalid_json" and detail in payload["error"]["message"]


def test_a_5000_digit_gallery_key_is_400(gallery):  # noqa: F811
    status, payload = answer(gallery[0], "/gallery", "POST", '{"key": ' + "7" * 5000 + "}")
    assert status == 400 and payload["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonp", "json"])
def test_bodies_not_declared_as_json_are_415(inference, content_type):  # noqa: F811
    """A web page can make a visitor's browser POST text/plain (or a form) to any origin without a preflight."""
    event = http_event("POST", "/stylize", {"image": PHOTO, "style": "test_a"})
    event["headers"].pop("content-type")
    if content_type:
        event["headers"]["content-type"] = content_type
    status, headers, payload = invoke(inference, event)
    assert status == 415 and payload["error"]["code"] == "invalid_request", payload
    assert_contract("/stylize", "POST", status, headers, payload)


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8"])
def test_json_with_any_charset_parameter_is_taken(inference, content_type):  # noqa: F811
    status, _ = answer(inference, "/stylize", "POST", {"image": PHOTO, "style": "test_a"},
                       headers={"content-type": content_type})
    assert status == 200


def test_a_response_that_cannot_be_serialised_is_a_json_500_with_cors(inference, monkeypatch):  # noqa: F811
    """A NaN in a model card once made every GET /styles a bare 500: now it is the contract's error body."""
    styles = inference.REGISTRY.list_styles()
    monkeypatch.setattr(inference.REGISTRY, "list_styles", lambda: [{**styles[0], "year": float("nan")}])
    status, headers, payload = invoke(inference, http_event("GET", "/styles"))
    assert status == 500 and payload["error"]["code"] == "internal_error"
    assert headers["Access-Control-Allow-Origin"] and headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW", "delete"])
def test_every_method_gets_405_from_the_handler(method):
    module = load_handler("lambda_gallery")
    status, headers, payload = invoke(module, http_event(method, "/gallery"))
    assert status == 405 and payload["error"]["code"] == "method_not_allowed" and headers["Allow"]


def test_error_messages_quote_at_most_a_little_of_what_was_sent(inference):  # noqa: F811
    status, payload = answer(inference, "/stylize", "POST", {"style": "test_a", "x" * 100_000: 1})
    assert status == 400 and len(payload["error"]["message"]) < 400


def test_route_templates_pass_their_parameters_and_each_request_its_own_caller():
    routes = {"/jobs": {"GET": lambda request: {"caller": request.caller, "params": request.params}},
              "/jobs/{id}/model": {"GET": lambda request: {"caller": request.caller, "params": request.params}}}

    class Module:  # what invoke() calls: a handler that says who the caller is from its authorizer's context
        handler = staticmethod(lambda event, context: handle(event, context, routes,
                                                             caller=lambda request: request.authorizer.get("sub")))

    signed_in = http_event("GET", "/jobs/abc/model")
    signed_in["requestContext"]["authorizer"] = {"lambda": {"sub": "alice"}}
    assert invoke(Module, signed_in)[2] == {"caller": "alice", "params": {"id": "abc"}}
    assert invoke(Module, http_event("GET", "/jobs"))[2] == {"caller": None, "params": {}}  # not the one before
    for path in ("/jobs/abc", "/jobs/a/b/model", "/jobs//model"):  # a parameter is one whole, non-empty segment
        status, _, payload = invoke(Module, http_event("GET", path))
        assert status == 404 and payload["error"]["code"] == "not_found"
