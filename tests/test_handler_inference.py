"""The inference Lambda's handler on real ONNX models (our exporter's) and moto S3, fed the events/ files:
every route's happy path, every bad input's documented 4xx, responses checked against openapi.yaml."""

import base64
import io
import json
import struct
import zlib

import boto3
import numpy as np
import pytest
from api_helpers import OPENAPI, ROOT, assert_contract, http_event, image_bytes, invoke, load_handler
from moto import mock_aws
from PIL import Image

BUCKET = "gallery-test"


@pytest.fixture(scope="module")
def inference(onnx_models_dir):
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in {"MODELS_DIR": str(onnx_models_dir), "GALLERY_BUCKET": BUCKET, "GALLERY_PREFIX": "gallery/",
                            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                            "AWS_SECRET_ACCESS_KEY": "testing"}.items():
            patch.setenv(name, value)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="gallery/astronaut.jpg", Body=image_bytes(48, 40, seed=3))
        yield load_handler("lambda_inference")


def stylize(module, body, version=2):
    status, headers, payload = invoke(module, http_event("POST", "/stylize", body, version=version))
    assert_contract("/stylize", "POST", status, headers, payload)
    return status, headers, payload


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def decoded(payload) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(payload["image"])))


def test_styles_lists_the_registry(inference):
    status, headers, body = invoke(inference, http_event("GET", "/styles"))
    assert_contract("/styles", "GET", status, headers, body)
    assert [style["id"] for style in body["styles"]] == ["test_a", "test_b"]
    assert body["styles"][0]["artist"] == "Test Painter A"


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_stylize_returns_the_image_in_the_asked_format(inference, fmt, version):
    status, headers, body = stylize(inference, {"image": b64(image_bytes(60, 44)), "style": "test_b",
                                                "format": fmt, "strength": 0.7}, version)
    assert status == 200
    image = decoded(body)
    assert image.format == fmt.upper() and image.size == (60, 44) == (body["width"], body["height"])
    assert body["style"] == "test_b" and body["strength"] == 0.7
    timing = headers["Server-Timing"]
    assert all(f"{name};dur=" in timing for name in ("decode", "inference", "encode", "total"))


def test_max_size_scales_down_and_data_urls_are_accepted(inference):
    data_url = "data:image/png;base64," + b64(image_bytes(200, 100, "PNG"))
    status, _, body = stylize(inference, {"image": data_url, "style": "test_a", "max_size": 64})
    assert status == 200 and (body["width"], body["height"]) == (64, 32)


def test_max_size_takes_exactly_the_documented_range(inference):
    documented = OPENAPI["components"]["schemas"]["StylizeRequest"]["properties"]["max_size"]
    low, high = documented["minimum"], documented["maximum"]
    photo = b64(image_bytes(24, 12))
    for max_size in (low, high):
        status, _, body = stylize(inference, {"image": photo, "style": "test_a", "max_size": max_size})
        assert status == 200 and max(body["width"], body["height"]) == min(24, max_size)
    for max_size in (low - 1, high + 1):
        status, _, body = stylize(inference, {"image": photo, "style": "test_a", "max_size": max_size})
        assert status == 400 and body["error"]["code"] == "invalid_parameter"
        assert f"from {low} to {high}" in body["error"]["message"]


def test_results_are_held_to_the_pixel_cap(inference, monkeypatch):
    monkeypatch.setattr(inference, "MAX_PIXELS", 1_000)
    status, _, body = stylize(inference, {"image": b64(image_bytes(80, 40)), "style": "test_a", "max_size": 2048})
    assert status == 200 and body["width"] * body["height"] <= 1_000 and body["width"] >= 40


def exif_rotated_jpeg() -> bytes:
    image = Image.open(io.BytesIO(image_bytes(40, 20)))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize("photo, size", [
    (image_bytes(30, 20, "PNG", "RGBA"), (30, 20)), (image_bytes(30, 20, "PNG", "LA"), (30, 20)),
    (image_bytes(30, 20, "PNG", "L"), (30, 20)), (image_bytes(30, 20, "PNG", "P"), (30, 20)),
    (image_bytes(30, 20, "JPEG", "CMYK"), (30, 20)), (image_bytes(30, 20, "TIFF", "I;16"), (30, 20)),
    (exif_rotated_jpeg(), (20, 40)),
], ids=["rgba", "la", "gray", "palette", "cmyk", "16bit", "exif-rotated"])
def test_every_image_mode_is_stylized(inference, photo, size):
    status, _, body = stylize(inference, {"image": b64(photo), "style": "test_a", "format": "png"})
    assert status == 200, body
    assert decoded(body).size == size


def test_gallery_key_reads_the_photo_from_s3(inference):
    status, _, body = stylize(inference, {"gallery_key": "gallery/astronaut.jpg", "style": "test_a"})
    assert status == 200 and (body["width"], body["height"]) == (48, 40)


def huge_png_header(width=60000, height=60000) -> bytes:
    """A tiny file that claims 3.6 gigapixels: the decompression-bomb guard must refuse it from the header."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("body, status, code", [
    ("", 400, "invalid_json"),
    ("not json", 400, "invalid_json"),
    ('["image"]', 400, "invalid_json"),
    ({"image": b64(b"hello, I am not an image"), "style": "test_a"}, 400, "invalid_image"),
    ({"image": b64(image_bytes(64, 64)[:300]), "style": "test_a"}, 400, "invalid_image"),
    ({"image": "", "style": "test_a"}, 400, "invalid_image"),
    ({"image": "@@@ not base64 @@@", "style": "test_a"}, 400, "invalid_base64"),
    ({"image": "data:image/png,raw", "style": "test_a"}, 400, "invalid_base64"),
    ({"image": b64(huge_png_header()), "style": "test_a"}, 413, "image_too_large"),
    ({"image": b64(image_bytes(8, 8)), "style": "van_gogh"}, 404, "unknown_style"),
    ({"image": b64(image_bytes(8, 8)), "style": 7}, 400, "invalid_request"),
    ({"image": b64(image_bytes(8, 8))}, 400, "invalid_request"),
    ({"style": "test_a"}, 400, "invalid_request"),
    ({"image": b64(image_bytes(8, 8)), "gallery_key": "gallery/astronaut.jpg", "style": "test_a"}, 400,
     "invalid_request"),
    ({"image": b64(image_bytes(8, 8)), "style": "test_a", "preserve_colour": True}, 400, "invalid_request"),
    ({"image": b64(image_bytes(8, 8)), "style": "test_a", "strength": "high"}, 400, "invalid_request"),
    ({"image": b64(image_bytes(8, 8)), "style": "test_a", "strength": True}, 400, "invalid_request"),
    ({"image": b64(image_bytes(8, 8)), "style": "test_a", "strength": 1.5}, 400, "invalid_parameter"),
    ({"image": b64(image_bytes(8, 8)), "style": "test_a", "max_size": 4096}, 400, "invalid_parameter"),
    ({"image": b64(image_bytes(8, 8)), "style": "test_a", "format": "gif"}, 400, "invalid_parameter"),
    ({"image": b64(image_bytes(8, 8)), "style": "test_a", "quality": 0}, 400, "invalid_parameter"),
    ({"gallery_key": "gallery/../private/x.jpg", "style": "test_a"}, 400, "invalid_key"),
    ({"gallery_key": "gallery/missing.jpg", "style": "test_a"}, 404, "not_found"),
], ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None)
def test_bad_input_gets_its_documented_4xx(inference, body, status, code):
    got_status, _, payload = stylize(inference, body)
    assert (got_status, payload["error"]["code"]) == (status, code), payload
    assert payload["error"]["message"]


def test_every_error_of_the_core_has_its_status_in_the_handler(inference):
    import stylecore

    def subclasses(cls):
        return [cls, *(sub for child in cls.__subclasses__() for sub in subclasses(child))]

    codes = {cls.code for cls in subclasses(stylecore.StyleCoreError) if cls is not stylecore.StyleCoreError}
    assert codes <= set(inference.CORE_ERROR_STATUS)
    statuses = {"image_too_large": 413, "invalid_image": 400, "invalid_parameter": 400, "unknown_style": 404}
    assert {code: inference.CORE_ERROR_STATUS[code] for code in statuses} == statuses


def test_oversize_payload_is_413_with_advice(inference):
    status, _, body = stylize(inference, {"image": "A" * 6_100_000, "style": "test_a"})
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert "6.0 MB" in body["error"]["message"]


def test_wrong_method_and_unknown_route(inference):
    status, headers, body = invoke(inference, http_event("GET", "/stylize"))
    assert status == 405 and body["error"]["code"] == "method_not_allowed" and headers["Allow"] == "POST, OPTIONS"
    status, _, body = invoke(inference, http_event("GET", "/nothing"))
    assert status == 404 and body["error"]["code"] == "not_found"


def test_results_too_big_for_a_response_shrink_or_get_413(inference, monkeypatch):
    photo = b64(image_bytes(256, 256, seed=5))
    _, _, full = stylize(inference, {"image": photo, "style": "test_a", "format": "webp", "quality": 95})
    full_size = len(base64.b64decode(full["image"]))
    # a response budget just under this result: the same pixels come back at a lower quality
    monkeypatch.setattr(inference, "MAX_RESPONSE_BYTES", (full_size - 1) * 4 // 3 + 2_000)
    status, _, smaller = stylize(inference, {"image": photo, "style": "test_a", "format": "webp", "quality": 95})
    assert status == 200 and smaller["quality"] < 95
    assert len(base64.b64decode(smaller["image"])) < full_size
    assert decoded(smaller).size == (256, 256)
    monkeypatch.setattr(inference, "MAX_RESPONSE_BYTES", 3_000)
    status, _, body = stylize(inference, {"image": photo, "style": "test_a", "format": "png"})
    assert status == 413 and body["error"]["code"] == "response_too_large" and "jpeg" in body["error"]["message"]


def test_stylized_pixels_differ_from_the_photo_and_strength_zero_keeps_it(inference):
    photo = image_bytes(32, 32, "PNG", seed=9)
    _, _, styled = stylize(inference, {"image": b64(photo), "style": "test_a", "format": "png"})
    _, _, kept = stylize(inference, {"image": b64(photo), "style": "test_a", "format": "png", "strength": 0})
    original = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"), dtype=np.int16)
    assert np.abs(np.asarray(decoded(kept), dtype=np.int16) - original).max() == 0
    assert np.abs(np.asarray(decoded(styled), dtype=np.int16) - original).mean() > 5


def test_a_log_line_per_request_with_request_id_and_timings(inference, capsys):
    capsys.readouterr()
    stylize(inference, {"image": b64(image_bytes(16, 16)), "style": "test_a"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    record = [line for line in lines if line["message"] == "request"][-1]
    assert record["status"] == 200 and record["path"] == "/stylize" and len(record["request_id"]) == 36
    assert set(record["timings"]) >= {"decode_ms", "inference_ms", "encode_ms", "total_ms"}


@pytest.mark.parametrize("name", ["get_styles.json", "post_stylize.json", "post_stylize_gallery.json",
                                  "options_stylize.json", "rest_v1_post_stylize.json"])
def test_event_files_run(inference, name):
    event = json.loads((ROOT / "events" / name).read_text())
    if event.get("body"):  # the events name a bundled style; the tests have their own
        event["body"] = event["body"].replace('"great_wave"', '"test_a"')
    status, headers, body = invoke(inference, event)
    method = event.get("httpMethod") or event["requestContext"]["http"]["method"]
    path = event.get("path") or event["rawPath"]
    assert status in (200, 204), body
    assert_contract(path, method, status, headers, body)
