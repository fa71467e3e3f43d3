"""The styles that ship in models/: one multi-style network for every painting of the catalog, within size,
documented by its card (each painting, the training photos' licences, the recipe and compute, the val metric),
and producing real, distinct pictures in every style."""

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from stylecore import StyleRegistry
from stylecore.modelfiles import card_filename, parse_card_filename, read_card
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
