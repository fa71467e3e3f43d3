"""The gallery Lambda against moto S3: listing, pagination, fetching, and every bad key."""

import base64
import json

import boto3
import pytest
from api_helpers import ROOT, assert_contract, http_event, image_bytes, invoke, load_handler
from moto import mock_aws

BUCKET = "gallery-test"
PHOTOS = {f"gallery/photo_{i:02d}.jpg": image_bytes(40 + i, 30, seed=i) for i in range(7)}
OTHERS = {
    "gallery/notes.txt": b"not an image",
    "gallery/sub/nested.PNG": image_bytes(20, 20, "PNG"),
    "gallery/empty.jpg": b"",
    "private/secret.jpg": image_bytes(10, 10),
}


@pytest.fixture
def gallery(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("GALLERY_BUCKET", BUCKET)
    monkeypatch.setenv("GALLERY_PREFIX", "gallery/")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for key, data in {**PHOTOS, **OTHERS}.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        yield load_handler("lambda_gallery"), s3


def call(module, method, body=None, query=None, version=2):
    status, headers, payload = invoke(module, http_event(method, "/gallery", body, query, version=version))
    assert_contract("/gallery", method, status, headers, payload)
    return status, headers, payload


@pytest.mark.parametrize("version", [1, 2])
def test_list_returns_only_fetchable_images_with_presigned_urls(gallery, version):
    module, _ = gallery
    status, _, body = call(module, "GET", version=version)
    assert status == 200
    keys = [item["key"] for item in body["images"]]
    assert keys == sorted([*PHOTOS, "gallery/sub/nested.PNG"])
    assert body["next_cursor"] is None
    first = body["images"][0]
    assert first["name"] == "photo_00.jpg" and first["size"] == len(PHOTOS[first["key"]])
    assert first["content_type"] == "image/jpeg" and "X-Amz-Signature=" in first["url"]


def test_pages_follow_the_cursor_to_the_end(gallery):
    module, _ = gallery
    seen, cursor = [], None
    for _ in range(10):
        status, _, body = call(module, "GET", query={"limit": "3", **({"cursor": cursor} if cursor else {})})
        assert status == 200 and len(body["images"]) <= 3
        seen += [item["key"] for item in body["images"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([*PHOTOS, "gallery/sub/nested.PNG"])


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"limit": "-1"},
                                   {"cursor": "!!!"}, {"cursor": base64.urlsafe_b64encode(b"../x.jpg").decode()}])
def test_bad_list_parameters_are_400(gallery, query):
    status, _, body = call(gallery[0], "GET", query=query)
    assert status == 400 and body["error"]["code"] == "invalid_parameter"


def test_post_returns_the_image_bytes(gallery):
    key = "gallery/photo_03.jpg"
    status, _, body = call(gallery[0], "POST", {"key": key})
    assert status == 200
    assert base64.b64decode(body["image"]) == PHOTOS[key]
    assert body == {**body, "key": key, "content_type": "image/jpeg", "size": len(PHOTOS[key])}


@pytest.mark.parametrize("key", [
    "../private/secret.jpg", "gallery/../private/secret.jpg", "gallery/./photo_01.jpg", "gallery//photo_01.jpg",
    "/gallery/photo_01.jpg", "private/secret.jpg", "gallery\\..\\private\\secret.jpg", "gallery/%2e%2e/secret.jpg",
    "gallery/notes.txt", "gallery/photo_01.jpg\x00.png", "gallery/", "gallery/" + "a" * 1100 + ".jpg", "", 42, None,
    "gallery/" + "é" * 600 + ".jpg",  # 612 characters but 1,212 bytes: S3 counts bytes
    "gallery/\ud800.jpg",  # a lone surrogate (JSON can carry one): not UTF-8 at all
])
def test_path_tricks_and_bad_keys_are_400(gallery, key):
    status, _, body = call(gallery[0], "POST", {"key": key})
    assert status == 400 and body["error"]["code"] == "invalid_key", body


def test_unknown_key_is_404(gallery):
    status, _, body = call(gallery[0], "POST", {"key": "gallery/missing.jpg"})
    assert status == 404 and body["error"]["code"] == "not_found"
    long_key = "gallery/" + "a" * (1024 - len("gallery/.jpg")) + ".jpg"  # S3's 1,024 bytes exactly: a key
    status, _, body = call(gallery[0], "POST", {"key": long_key})
    assert status == 404 and body["error"]["code"] == "not_found"


@pytest.mark.parametrize("key, data", [("gallery/empty.jpg", b""), ("gallery/text.jpg", b"just some text"),
                                       ("gallery/png_named.jpg", image_bytes(8, 8, "PNG")),
                                       ("gallery/riff.webp", b"RIFF\x10\x00\x00\x00WAVEfmt ")])
def test_objects_that_are_not_the_image_their_name_says_are_not_served(gallery, key, data):
    module, s3 = gallery
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    status, _, body = call(module, "POST", {"key": key})
    assert status == 404 and body["error"]["code"] == "not_found" and "not" in body["error"]["message"]


def test_s3_errors_do_not_leak_the_bucket_or_endpoint(gallery, monkeypatch):
    module, _ = gallery
    monkeypatch.setattr(module.GALLERY, "bucket", "no-such-bucket-for-this-test")
    for method, body in (("GET", None), ("POST", {"key": "gallery/photo_01.jpg"})):
        status, _, payload = call(module, method, body)
        assert status == 503 and payload["error"]["code"] == "gallery_unavailable"
        assert "no-such-bucket" not in payload["error"]["message"] and "http" not in payload["error"]["message"]


@pytest.mark.parametrize("limit", ["²", "①", "٣", "5" * 5000, "0", "101", "-1", " 5", "5.0", ""])
def test_limits_that_are_not_1_to_100_in_ascii_digits_are_400(gallery, limit):
    status, _, body = call(gallery[0], "GET", query={"limit": limit})
    assert status == 400 and body["error"]["code"] == "invalid_parameter"


def test_oversized_gallery_image_is_413(gallery, monkeypatch):
    module, s3 = gallery
    monkeypatch.setattr("apicommon.gallery.MAX_IMAGE_BYTES", 1000)
    s3.put_object(Bucket=BUCKET, Key="gallery/big.jpg", Body=image_bytes(200, 200))
    status, _, body = call(module, "POST", {"key": "gallery/big.jpg"})
    assert status == 413 and body["error"]["code"] == "image_too_large"


@pytest.mark.parametrize("raw, code", [("", "invalid_json"), ("{not json", "invalid_json"), ("[1]", "invalid_json"),
                                       ('{"key": "gallery/photo_01.jpg", "x": 1}', "invalid_request"),
                                       ("{}", "invalid_request")])
def test_bad_bodies_are_400(gallery, raw, code):
    status, _, body = call(gallery[0], "POST", raw)
    assert status == 400 and body["error"]["code"] == code


def test_wrong_method_is_405_and_preflight_is_204(gallery):
    module = gallery[0]
    status, headers, body = invoke(module, http_event("DELETE", "/gallery"))
    assert status == 405 and body["error"]["code"] == "method_not_allowed" and "POST" in headers["Allow"]
    status, headers, body = call(module, "OPTIONS")
    assert status == 204 and body is None and "POST" in headers["Access-Control-Allow-Methods"]


def test_missing_bucket_is_503_not_a_crash(monkeypatch):
    monkeypatch.delenv("GALLERY_BUCKET", raising=False)
    status, _, body = call(load_handler("lambda_gallery"), "GET")
    assert status == 503 and body["error"]["code"] == "gallery_unavailable"


@pytest.mark.parametrize("name", ["get_gallery.json", "post_gallery.json"])
def test_event_files_run(gallery, name):
    module, s3 = gallery
    event = json.loads((ROOT / "events" / name).read_text())
    s3.put_object(Bucket=BUCKET, Key="gallery/astronaut.jpg", Body=image_bytes(30, 30))
    status, headers, body = invoke(module, event)
    assert status == 200, body
    assert_contract("/gallery", event["requestContext"]["http"]["method"], status, headers, body)
