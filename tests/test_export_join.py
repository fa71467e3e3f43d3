"""A new style joined to the multi-style network it was fine-tuned from (python -m export --join): one file
that serves the base's styles unchanged and the new one, and blends them."""

import json

import numpy as np
import pytest
from stylecore import Stylizer
from synthetic import synthetic_photo
from test_training_multistyle import multistyle_config

from export.__main__ import main as export_main
from export.card import ExportError
from export.exporter import ExportRequest, export_model
from training.train import train

SIZES = ((32, 24), (17, 9))


@pytest.fixture
def runs(photo_dir, tmp_path):
    """A two-style base network, and a third style fine-tuned from it (only its own scales and shifts trained)."""
    paintings = []
    for i, name in enumerate(("wave", "scream", "mine")):
        paintings.append(tmp_path / f"{name}.png")
        synthetic_photo(56, 48, seed=300 + i).save(paintings[-1])
    train(multistyle_config(photo_dir, paintings[:2], tmp_path / "base", iterations=2))
    train(multistyle_config(photo_dir, paintings[2:], tmp_path / "mine", iterations=3, lr=0.05,
                            style_ids=["user-mine"], init_from=str(tmp_path / "base" / "final.pth"),
                            finetune_new_styles=True))
    models = tmp_path / "models"
    models.mkdir()
    return tmp_path, models


def photo() -> np.ndarray:
    return np.asarray(synthetic_photo(40, 28, seed=9), np.float32)


def test_the_joined_file_serves_the_base_styles_unchanged_and_the_new_one(runs):
    root, models = runs
    base = models / "base.onnx"
    export_model(ExportRequest(checkpoint=str(root / "base" / "final.pth"), out=str(base), parity_sizes=SIZES),
                 echo=lambda *_: None)
    alone = models / "alone.onnx"
    export_model(ExportRequest(checkpoint=str(root / "mine" / "final.pth"), out=str(alone), parity_sizes=SIZES),
                 echo=lambda *_: None)
    joined = models / "user-mine.onnx"
    assert export_main([str(root / "mine" / "final.pth"), "--out", str(joined), "--name", "Mine",
                        "--join", str(base), "--parity-sizes", "32x24"]) == 0

    card = json.loads((models / "user-mine.json").read_text())
    assert card["id"] == "user-mine" and card["name"] == "Mine"
    assert [(s["id"], s["index"]) for s in card["styles"]] == [("wave", 0), ("scream", 1), ("user-mine", 2)]
    base_card = json.loads((models / "base.json").read_text())
    assert card["styles"][0]["thumbnail"] == base_card["styles"][0]["thumbnail"]  # the base's own entries
    assert card["styles"][0]["joined_from"] == "base" and "joined_from" not in card["styles"][2]
    assert list(card["evaluation_defaults"]["style_images"]) == ["user-mine"]

    served, reference = Stylizer.from_file(joined), Stylizer.from_file(base)
    assert served.style_ids == ["wave", "scream", "user-mine"]
    for style_id in ("wave", "scream"):  # the base's styles, as the base file gives them
        np.testing.assert_allclose(served.for_style(style_id).stylize(photo()),
                                   reference.for_style(style_id).stylize(photo()), atol=1e-3)
    own = served.for_style("user-mine").stylize(photo())
    np.testing.assert_allclose(own, Stylizer.from_file(alone).stylize(photo()), atol=1e-3)
    blend = served.with_style_weights([0.5, 0.0, 0.5]).stylize(photo())
    assert np.abs(blend - own).mean() > 0.01  # a blend is not either style


def test_a_style_whose_shared_weights_moved_is_refused(runs, photo_dir):
    root, models = runs
    other = models.parent / "other"  # trained whole from the base: its shared weights are not the base's
    train(multistyle_config(photo_dir, [root / "mine.png"], other, iterations=2, lr=0.05, style_ids=["user-mine"],
                            init_from=str(root / "base" / "final.pth")))
    with pytest.raises(ExportError, match="shared weights differ"):
        export_model(ExportRequest(checkpoint=str(other / "final.pth"), out=str(models / "user-mine.onnx"),
                                   join=str(root / "base" / "final.pth"), parity_sizes=SIZES), echo=lambda *_: None)
    with pytest.raises(ExportError, match="already has a style 'wave'"):
        export_model(ExportRequest(checkpoint=str(root / "mine" / "final.pth"), out=str(models / "wave.onnx"),
                                   join=str(root / "base" / "final.pth"), parity_sizes=SIZES), echo=lambda *_: None)
    with pytest.raises(ExportError, match="one-style checkpoint"):
        export_model(ExportRequest(checkpoint=str(root / "base" / "final.pth"), out=str(models / "x.onnx"),
                                   join=str(root / "base" / "final.pth"), parity_sizes=SIZES), echo=lambda *_: None)
    assert not list(models.glob("*.onnx"))  # nothing half-written
