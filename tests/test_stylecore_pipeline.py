"""stylize_bytes end to end on real ONNX models from our exporter: options, sizes, tiling, the registry."""

import io

import boto3
import numpy as np
import pytest
from moto import mock_aws
from PIL import Image
from stylecore import InvalidImage, InvalidParameter, StyleCoreError, StyleRegistry, UnknownStyle, stylize_bytes
from stylecore.imaging import rgb_to_ycbcr
from stylecore.modelfiles import STEADY_VARIANT, model_filename
from synthetic import synthetic_photo

from export.parity import psnr


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.fixture(scope="module")
def registry(onnx_models_dir):
    return StyleRegistry.from_dir(onnx_models_dir)


@pytest.fixture(scope="module")
def stylizer(registry):
    return registry.get("test_a")


@pytest.fixture(scope="module")
def photo():
    return synthetic_photo(96, 72, seed=5)


def test_result_fields_and_formats(stylizer, photo):
    for fmt, mime in (("jpeg", "image/jpeg"), ("png", "image/png"), ("webp", "image/webp")):
        result = stylize_bytes(png(photo), stylizer, output_format=fmt)
        assert (result.format, result.mime_type, result.width, result.height) == (fmt, mime, 96, 72)
        assert Image.open(io.BytesIO(result.image)).format == fmt.upper()
        assert set(result.timings) == {"decode_ms", "inference_ms", "encode_ms"}
    stylized = pixels(stylize_bytes(png(photo), stylizer, output_format="png").image).astype(int)
    assert np.abs(stylized - np.asarray(photo, int)).mean() > 10  # the style did change the photo


def test_strength_zero_returns_the_content(stylizer, photo):
    result = stylize_bytes(png(photo), stylizer, strength=0.0, output_format="png")
    np.testing.assert_array_equal(pixels(result.image), np.asarray(photo))


def test_strength_blends_linearly(stylizer, photo):
    full = pixels(stylize_bytes(png(photo), stylizer, strength=1.0, output_format="png").image).astype(float)
    half = pixels(stylize_bytes(png(photo), stylizer, strength=0.5, output_format="png").image).astype(float)
    expected = 0.5 * full + 0.5 * np.asarray(photo, float)
    assert np.abs(half - expected).max() <= 1.0


def test_preserve_color_keeps_the_content_chroma(stylizer, photo):
    content = rgb_to_ycbcr(np.asarray(photo, np.float32))
    kept = rgb_to_ycbcr(pixels(stylize_bytes(png(photo), stylizer, preserve_color=True,
                                             output_format="png").image).astype(np.float32))
    styled = rgb_to_ycbcr(pixels(stylize_bytes(png(photo), stylizer, output_format="png").image).astype(np.float32))
    chroma_error = np.abs(kept[..., 1:] - content[..., 1:]).mean()
    assert chroma_error < 3.0 < np.abs(styled[..., 1:] - content[..., 1:]).mean()
    assert np.abs(kept[..., 0] - styled[..., 0]).mean() < 3.0  # the luminance is the style's


def test_alpha_is_reapplied(stylizer):
    rgba = synthetic_photo(40, 30, seed=1).convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, 40, dtype=np.uint8), (30, 1))
    rgba.putalpha(Image.fromarray(alpha))
    out = Image.open(io.BytesIO(stylize_bytes(png(rgba), stylizer, output_format="png").image))
    assert out.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(out)[..., 3], alpha)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "CMYK", "I;16", "1"])
def test_every_mode_stylizes(stylizer, mode):
    base = synthetic_photo(33, 21, seed=2)
    image = Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257) if mode == "I;16" else base.convert(mode)
    data = io.BytesIO()
    image.save(data, "TIFF" if mode == "CMYK" else "PNG")
    result = stylize_bytes(data.getvalue(), stylizer, output_format="png")
    assert (result.width, result.height) == (33, 21)


@pytest.mark.parametrize("size", [(1, 1), (2, 7), (7, 2), (4, 4), (5, 5), (6, 9), (33, 17)])
def test_tiny_and_odd_sizes(stylizer, size):
    noise = np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    result = stylize_bytes(png(Image.fromarray(noise)), stylizer, output_format="png")
    assert (result.width, result.height) == size
    assert pixels(result.image).shape[:2] == size[::-1]


def test_max_size_scales_down(stylizer):
    result = stylize_bytes(png(synthetic_photo(200, 100, seed=4)), stylizer, max_size=64)
    assert (result.width, result.height) == (64, 32)


@pytest.mark.parametrize("options", [{"strength": 1.5}, {"strength": -0.1}, {"strength": "1"}, {"max_size": 0},
                                     {"max_size": 100_000}, {"output_format": "gif"}, {"quality": 0},
                                     {"quality": 101}, {"max_pixels": -1}])
def test_bad_parameters(stylizer, photo, options):
    with pytest.raises(InvalidParameter) as caught:
        stylize_bytes(png(photo), stylizer, **options)
    assert caught.value.code == "invalid_parameter"  # its HTTP status: test_handler_inference.py


def test_bad_bytes_raise_a_4xx(stylizer):
    with pytest.raises(InvalidImage):
        stylize_bytes(b"not an image", stylizer)


def test_tiled_output_matches_whole_image(stylizer):
    """Tiles of 96 px with 64 px of context, on a 256x192 photo (6 tiles).

    Reached with test_a: 145 dB PSNR against the whole image with the whole image's statistics (equal up to
    rounding), 34 dB with statistics pooled over four crops, 29 dB with each tile's own statistics. (On a real
    1920x1280 photo with the trained Great Wave, pooled over two crops: 46.0 dB; see docs/benchmarks.md.)
    """
    rgb = np.asarray(synthetic_photo(256, 192, seed=8), np.float32)
    whole = np.clip(stylizer.stylize_whole(rgb), 0, 255)
    # The whole image's own statistics in every tile: identical up to float rounding, so no seams.
    exact = stylizer.global_norm_stats(rgb) if rgb.size // 3 <= stylizer.stats_crop_pixels else None
    tiled = np.clip(stylizer.stylize_tiled(rgb, tile_size=96, margin=64, norm_stats=exact), 0, 255)
    assert psnr(whole, tiled) > 80
    # Statistics pooled over four crops, as for a photo too large to run whole: close, and still seamless.
    previous = stylizer.stats_crop_pixels
    stylizer.stats_crop_pixels = 256 * 192 // 4
    try:
        pooled = np.clip(stylizer.stylize_tiled(rgb, tile_size=96, margin=64), 0, 255)
    finally:
        stylizer.stats_crop_pixels = previous
    assert psnr(whole, pooled) > 30
    naive = np.empty_like(rgb)  # each tile with its own statistics: what the shared statistics avoid
    for top in range(0, 192, 96):
        for left in range(0, 256, 96):
            y0, x0 = max(0, top - 64), max(0, left - 64)
            window = stylizer.stylize_whole(rgb[y0:top + 160, x0:left + 160])
            naive[top:top + 96, left:left + 96] = window[top - y0:top - y0 + 96, left - x0:left - x0 + 96]
    assert psnr(whole, pooled) > psnr(whole, np.clip(naive, 0, 255)) + 3


def test_large_images_go_through_tiles(stylizer, monkeypatch):
    rgb = np.asarray(synthetic_photo(300, 200, seed=9), np.float32)
    calls = []
    original = stylizer.stylize_whole
    monkeypatch.setattr(stylizer, "stylize_whole", lambda image, stats=None: calls.append(image.shape)
                        or original(image, stats))
    monkeypatch.setattr(stylizer, "tile_threshold", 100 * 100)
    monkeypatch.setattr(stylizer, "tile_size", 64)
    monkeypatch.setattr(stylizer, "tile_margin", 16)
    out = stylizer.stylize(rgb)
    assert out.shape == rgb.shape and len(calls) == 4 * 5 and max(h * w for h, w, _ in calls) <= 96 * 96


def test_norm_stats_override_reproduces_the_plain_network(stylizer):
    batch = np.asarray(synthetic_photo(48, 40, seed=10), np.float32).transpose(2, 0, 1)[None]
    plain, stats = stylizer.run(batch, want_stats=True)
    np.testing.assert_allclose(stylizer.run(batch, stats[0]), plain, atol=1e-3)
    assert not np.allclose(stylizer.run(batch, stats[0] * 1.5), plain, atol=1.0)


def test_registry_lists_and_caches(registry):
    styles = registry.list_styles()
    assert [s["id"] for s in styles] == ["test_a", "test_b"]
    first = styles[0]
    assert first["name"] == "Test style A" and first["artist"] == "Test Painter A" and first["year"] == 1900
    assert first["thumbnail"].startswith("data:image/jpeg;base64,")
    assert first["style_license"] == "public domain"
    assert registry.get("test_b") is registry.get("test_b")
    with pytest.raises(UnknownStyle) as caught:
        registry.get("../test_a")
    assert caught.value.code == "unknown_style" and isinstance(caught.value, StyleCoreError)


def test_registry_from_env(onnx_models_dir, monkeypatch):
    monkeypatch.setenv("MODELS_DIR", str(onnx_models_dir))
    assert "test_a" in [style["id"] for style in StyleRegistry.from_env().list_styles()]


def test_registry_serves_the_preferred_variant_where_a_style_has_it(onnx_models_dir, tmp_path, monkeypatch):
    import shutil

    for name in ("test_a.onnx", "test_a.json", "test_b.onnx", "test_b.json"):
        shutil.copy(onnx_models_dir / name, tmp_path / name)
    shutil.copy(onnx_models_dir / "test_b.onnx", tmp_path / "test_a.int8.onnx")  # stands in for a variant
    monkeypatch.setenv("MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("MODELS_VARIANT", "int8")
    registry = StyleRegistry.from_env()
    assert [s["id"] for s in registry.list_styles()] == ["test_a", "test_b"]  # variants are not styles
    assert registry.get("test_a").path.endswith("test_a.int8.onnx")
    assert registry.get("test_b").path.endswith("test_b.onnx")  # no int8 file: the main model
    assert registry.get("test_a", "fp32").path.endswith("test_a.onnx")
    monkeypatch.setenv("MODELS_VARIANT", "../x")
    with pytest.raises(RuntimeError, match="MODELS_VARIANT"):
        StyleRegistry.from_env()


def test_registry_paints_moving_pictures_with_the_steady_variant_where_a_network_has_it(onnx_models_dir, tmp_path):
    import shutil

    for name in ("test_a.onnx", "test_a.json", "test_b.onnx", "test_b.json"):
        shutil.copy(onnx_models_dir / name, tmp_path / name)
    shutil.copy(onnx_models_dir / "test_b.onnx", tmp_path / model_filename("test_a", STEADY_VARIANT))  # a stand-in
    shutil.copy(onnx_models_dir / "test_a.onnx", tmp_path / "test_b.int8.onnx")
    registry = StyleRegistry.from_dir(tmp_path)
    registry.preferred_variant = "int8"
    assert registry.get("test_a", moving=True).path.endswith("test_a.steady.onnx")
    assert registry.get("test_a").path.endswith("test_a.onnx")  # photos: the served file, never the steady one
    assert registry.get("test_b", moving=True).path.endswith("test_b.int8.onnx")  # no steady file: the served one
    assert registry.get("test_a", "fp32", moving=True).path.endswith("test_a.onnx")  # a variant asked for wins
    frame = np.full((16, 16, 3), 120, np.uint8)
    steady, served = registry.get("test_a", moving=True), registry.get("test_a")
    assert not np.array_equal(steady.stylize(frame), served.stylize(frame)), "two networks, two pictures"


@mock_aws
def test_registry_from_s3_downloads_only_the_served_variant(onnx_models_dir, tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="models-bucket")
    for path in onnx_models_dir.iterdir():
        s3.upload_file(str(path), "models-bucket", path.name)
    s3.upload_file(str(onnx_models_dir / "test_b.onnx"), "models-bucket", "test_a.int8.onnx")  # a stand-in
    registry = StyleRegistry.from_s3("models-bucket", cache_dir=tmp_path / "cache", s3_client=s3)
    registry.preferred_variant = "int8"
    registry.get("test_a")
    registry.get("test_b")  # no int8 file: its main model
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["test_a.int8.onnx", "test_b.onnx"]


@mock_aws
def test_registry_from_s3_downloads_once(onnx_models_dir, tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="models-bucket")
    for path in onnx_models_dir.iterdir():
        s3.upload_file(str(path), "models-bucket", f"styles/v1/{path.name}")
    registry = StyleRegistry.from_s3("models-bucket", "styles/v1", cache_dir=tmp_path / "cache", s3_client=s3)
    assert [s["id"] for s in registry.list_styles()] == ["test_a", "test_b"]
    assert registry.list_styles()[1]["artist"] == "Test Painter B"
    stylizer = registry.get("test_a")
    cached = tmp_path / "cache" / "test_a.onnx"
    assert cached.read_bytes() == (onnx_models_dir / "test_a.onnx").read_bytes()
    result = stylize_bytes(png(synthetic_photo(20, 16, seed=1)), stylizer)
    assert (result.width, result.height) == (20, 16)
    # A second cold start with the file already cached does not download it again.
    s3.delete_object(Bucket="models-bucket", Key="styles/v1/test_a.onnx")
    s3.put_object(Bucket="models-bucket", Key="styles/v1/test_a.onnx", Body=cached.read_bytes())
    mtime = cached.stat().st_mtime_ns
    again = StyleRegistry.from_s3("models-bucket", "styles/v1/", cache_dir=tmp_path / "cache", s3_client=s3)
    again.get("test_a")
    assert cached.stat().st_mtime_ns == mtime
    with pytest.raises(UnknownStyle):
        again.get("test_a", "int8")
