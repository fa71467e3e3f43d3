"""The models that ship in models/: present, within size, documented, and producing real pictures."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_photo
from PIL import Image
from stylecore import StyleRegistry
from stylecore.modelfiles import card_filename, model_filename, parse_card_filename, read_card

from training.vgg import file_sha256

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
CATALOG = {s["id"]: s for s in json.loads((ROOT / "scripts" / "bundled_styles.json").read_text())["styles"]}
REQUIRED = ("great_wave", "starry_night", "the_scream", "udnie", "composition_vii", "shipwreck_of_the_minotaur")
BUNDLED = sorted(filter(None, (parse_card_filename(p.name) for p in MODELS.iterdir())))


def test_the_required_styles_ship():
    assert set(REQUIRED) <= set(BUNDLED)


@pytest.mark.parametrize("style_id", BUNDLED)
def test_model_card_documents_the_model(style_id):
    card = read_card(MODELS / card_filename(style_id))
    painting = CATALOG[style_id]
    assert (card["id"], card["name"], card["artist"]) == (style_id, painting["name"], painting["artist"])
    assert card["year"] and card["style_license"] == "public domain"
    assert "research" in card["training_data_license"]
    assert card["style_image"]["file"] == painting["file"]
    training = card["training"]
    assert training["steps"] > 0 and training["hyperparameters"]["iterations"] == training["steps"]
    assert {"content", "style", "tv", "total"} <= set(training["final_losses"])
    assert "VGG16" in training["loss_network"]["source"] and training["loss_network"]["preprocessing"] == "caffe"
    model = MODELS / card["model"]["file"]
    assert model.stat().st_size == card["model"]["bytes"] <= 7_000_000
    assert file_sha256(model) == card["model"]["sha256"]
    int8 = card["variants"]["int8"]
    assert int8["file"] == model_filename(style_id, "int8")
    assert int8["bundled"] and file_sha256(MODELS / int8["file"]) == int8["sha256"]
    assert int8["psnr_vs_fp32_db"] > 35


@pytest.mark.parametrize("style_id", BUNDLED)
def test_served_model_stylizes_a_photo(style_id):
    registry = StyleRegistry.from_dir(MODELS)
    registry.preferred_variant = "int8"  # what the Lambda and make dev serve
    photo = np.asarray(synthetic_photo(96, 72, seed=3).convert("RGB"), dtype=np.float32)
    out = registry.get(style_id).stylize(photo)
    assert out.shape == photo.shape and np.isfinite(out).all()
    result = np.clip(out, 0, 255)
    # A picture, not a blank: neither black nor washed out, with texture, and clearly not the photo.
    assert 25 < result.mean() < 230 and result.std() > 12
    assert np.abs(result - photo).mean() > 20
    Image.fromarray(result.round().astype(np.uint8))  # a valid 8-bit image
