"""The styles that ship in models/: one multi-style network for every painting of the catalog, within size,
documented by its card (each painting, the training photos' licences, the recipe and compute, the val metric),
and producing real, distinct pictures in every style."""

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from stylecore import DecodedImage, StyleRegistry, stylize_pixels
from stylecore.modelfiles import STEADY_VARIANT, card_filename, parse_card_filename, read_card
from synthetic import synthetic_photo

from training.vgg import file_sha256

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
CATALOG = {s["id"]: s for s in json.loads((ROOT / "scripts" / "bundled_styles.json").read_text())["styles"]}
NETWORK = "bundled"  # scripts/ship_styles.py's NETWORK_ID
MAX_MODEL_BYTES = 7_000_000  # the device downloads it; the models layer carries it


@pytest.fixture(scope="module")
def card() -> dict:
    return read_card(MODELS / card_filename(NETWORK))


@pytest.fixture(scope="module")
def registry() -> StyleRegistry:
    registry = StyleRegistry.from_dir(MODELS)
    registry.preferred_variant = "halfres"  # what the Lambda and make dev ask for (the template's default)
    return registry


def test_every_catalog_painting_ships_in_one_network(card, registry):
    assert [s["id"] for s in card["styles"]] == list(CATALOG)
    assert sorted(filter(None, (parse_card_filename(p.name) for p in MODELS.iterdir()))) == [NETWORK]
    styles = {s["id"]: s for s in registry.list_styles()}
    assert set(styles) == set(CATALOG)
    assert {s["network"] for s in styles.values()} == {NETWORK} and all(s["blendable"] for s in styles.values())


def test_card_documents_each_painting_and_the_training(card):
    assert "research" in card["training_data_license"]
    for index, style in enumerate(card["styles"]):
        painting = CATALOG[style["id"]]
        assert style["index"] == index
        assert (style["name"], style["artist"], str(style["year"])) == (painting["name"], painting["artist"],
                                                                        painting["year"])  # 1889 as a number
        assert style["style_license"] == "public domain" and style["style_image"]["file"] == painting["file"]
        assert style["thumbnail"].startswith("data:image/jpeg;base64,")
    training = card["training"]
    hyper = training["hyperparameters"]
    assert hyper["batch_size"] > 0 and hyper["image_size"] > 0 and hyper["lr"] > 0
    # The compute: every segment's steps, images and CPU time, adding up to the card's totals.
    segments = training["segments"]
    assert segments[0]["steps"][0] == 0 and segments[-1]["steps"][1] == training["steps"]
    assert all(a["steps"][1] == b["steps"][0] for a, b in pairwise(segments))
    assert training["images_seen"] == sum(s["images"] for s in segments) == training["compute"]["images"]
    assert training["compute"]["cpu_hours"] == round(sum(s["cpu_s"] for s in segments) / 3600, 2) > 0
    for segment in segments:
        assert {"content_weight", "style_weight", "tv_weight", "precision", "threads"} <= set(segment)


def test_card_gives_each_style_its_val_metric(card):
    for style in card["styles"]:
        val = style["val_quality"]
        assert val["photos"] == 48 and val["long_side"] == 512  # all of ../shared/assets/photos/val
        assert 0 < val["style_ratio"] < 1 and val["content"] > 0 and val["tv"] > 0
        assert set(val["checks"]) == {"style", "content", "tv", "coverage"}
        assert val["passes"] == all(val["checks"].values())


def test_the_model_file_is_the_one_the_card_describes(card):
    model = MODELS / card["model"]["file"]
    assert model.stat().st_size == card["model"]["bytes"] <= MAX_MODEL_BYTES
    assert file_sha256(model) == card["model"]["sha256"]
    assert all(row["max_abs_error"] < 0.05 for row in card["parity"])  # the ONNX file is the trained network


def test_every_style_stylizes_a_photo_its_own_way(registry):
    photo = np.asarray(synthetic_photo(96, 72, seed=3).convert("RGB"), dtype=np.float32)
    results = {}
    for style_id in CATALOG:
        out = registry.get(style_id).stylize(photo)
        assert out.shape == photo.shape and np.isfinite(out).all()
        result = np.clip(out, 0, 255)
        # A picture, not a blank: neither black nor washed out, with texture, and clearly not the photo.
        assert 25 < result.mean() < 230 and result.std() > 12, style_id
        assert np.abs(result - photo).mean() > 20, style_id
        Image.fromarray(result.round().astype(np.uint8))  # a valid 8-bit image
        results[style_id] = result
    # Nine styles, not one style nine times: every pair of results differs clearly.
    ids = list(results)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            assert np.abs(results[a] - results[b]).mean() > 8, (a, b)


def test_blending_two_bundled_styles_lies_between_them(registry):
    photo = np.asarray(synthetic_photo(64, 48, seed=5).convert("RGB"), dtype=np.float32)
    a, b = registry.get("great_wave").stylize(photo), registry.get("udnie").stylize(photo)
    mixed = registry.blend([("great_wave", 0.5), ("udnie", 0.5)]).stylize(photo)
    assert np.abs(mixed - a).mean() > 3 and np.abs(mixed - b).mean() > 3
    assert np.abs(mixed - (a + b) / 2).mean() < np.abs(a - b).mean()


def test_the_steady_file_is_the_one_the_card_describes_with_the_same_styles(card, registry):
    steady = card["variants"][STEADY_VARIANT]
    path = MODELS / steady["file"]
    assert path.stat().st_size == steady["bytes"] <= MAX_MODEL_BYTES and file_sha256(path) == steady["sha256"]
    assert steady["psnr_vs_fp32_min_db"] > 40  # its halfres layout against its own fp32 file
    assert card["variants_training"][STEADY_VARIANT]["steps"] > 0
    moving = registry.get("great_wave", moving=True)
    assert moving.path == str(path) and moving.style_ids == [s["id"] for s in card["styles"]]
    assert registry.blend([("great_wave", 0.5), ("udnie", 0.5)], moving=True).path == str(path)
    assert registry.get("great_wave").path == str(MODELS / card["variants"]["halfres"]["file"])  # photos


def warping_error(frames: list, shift: int, border: int = 8) -> float:
    """Lai et al.'s warping error with the motion known exactly (a pan of `shift` px a frame to the left), as the
    quality kit's stability.py measures it: each frame against the one before, moved, on 0..1 squared."""
    pairs = [(cur.astype(np.float32) / 255, prev.astype(np.float32) / 255) for prev, cur in pairwise(frames)]
    return float(np.mean([np.mean(((cur[:, :-shift] - prev[:, shift:])[border:-border, border:-border]) ** 2)
                          for cur, prev in pairs]))


def panned(stylize, photo: np.ndarray, shift: int, count: int = 6, size=(96, 128), noise: float = 2.0) -> float:
    """The kit's figure for a camera panning by `shift` px a frame, each frame with its own sensor noise: how much
    more the painted frames change than the camera's own frames; about 1 is steady."""
    rng, (h, w) = np.random.default_rng(shift), size
    clip = [np.clip(np.rint(photo[:h, t * shift:t * shift + w] + rng.normal(0, noise, (h, w, 3))), 0, 255)
            .astype(np.uint8) for t in range(count)]
    return warping_error([stylize(frame) for frame in clip], shift) / warping_error(clip, shift)


def test_video_frames_are_painted_by_the_steady_network_which_boils_far_less_on_a_pan(registry):
    from videojobs.work import painter

    paint = painter(registry, {"style": "great_wave"})  # what a video job paints each frame with
    served = registry.get("great_wave")  # what a photo is painted with
    photo = np.asarray(synthetic_photo(160, 96, seed=9).convert("RGB"), np.float32)
    frame = photo[:96, :128].astype(np.uint8)
    assert np.array_equal(paint(frame), stylize_pixels(DecodedImage(frame), registry.get("great_wave", moving=True)))
    for shift in (1, 2, 3):  # not multiples of the plain network's 4-px lattice
        steady, plain = panned(paint, photo, shift), panned(lambda f: stylize_pixels(DecodedImage(f), served), photo,
                                                              shift)
        assert steady < plain / 3, f"a pan of {shift} px: steady {steady:.2f}, plain {plain:.2f}"
