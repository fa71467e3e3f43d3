"""The steady variant: a second network with the same styles, trained to hold still when the scene moves (the
antialiased network with the detail path), exported beside the main one as STYLE_ID.steady.onnx in its halfres
layout, judged against its own fp32 file, with its training recorded in the card (not in the listing)."""

import numpy as np
import pytest
import torch
from stylecore import StyleRegistry, Stylizer
from stylecore.modelfiles import STEADY_VARIANT, model_filename
from synthetic import synthetic_photo
from test_multistyle_serving import trio_network

from export.card import ExportError
from export.exporter import ExportRequest, export_model
from training.model import TransformerNet


def steady_trio() -> TransformerNet:
    """The trio's styles on the antialiased network with the detail path, its norms as the trio's (so each
    style is the same painting) and its detail path awake."""
    steady = TransformerNet(num_styles=3, width=8, antialias=True, detail=True).eval()
    steady.load_state_dict(trio_network().state_dict(), strict=False)
    with torch.no_grad():
        for parameter in steady.parameters():
            if not parameter.abs().sum():
                parameter.normal_(0.0, 0.1)
    return steady


def checkpoint(path, net, paintings, step):
    torch.save({"model": net.state_dict(), "step": step,
                "config": {"style_ids": ["a", "b", "c"], "style_images": [str(p) for p in paintings]}}, path)
    return str(path)


@pytest.fixture(scope="module")
def paintings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paintings")
    for i in range(3):
        synthetic_photo(40, 40, seed=60 + i).save(folder / f"p{i}.png")
    return [folder / f"p{i}.png" for i in range(3)]


def test_the_exporter_adds_the_steady_network_as_a_variant_judged_against_its_own_fp32(paintings, photo_dir, tmp_path):
    main = checkpoint(tmp_path / "main.pth", trio_network(), paintings, 100)
    steady = checkpoint(tmp_path / "steady.pth", steady_trio(), paintings, 40)
    out = tmp_path / "models" / "trio.onnx"
    out.parent.mkdir()
    card = export_model(ExportRequest(checkpoint=main, out=str(out), halfres=True, steady=steady,
                                      eval_photos=str(photo_dir), eval_size=64, parity_sizes=((32, 24),)),
                        echo=lambda *_: None)
    variant = card["variants"][STEADY_VARIANT]
    assert variant["file"] == model_filename("trio", STEADY_VARIANT)
    # Near its own fp32 file (the halfres layout of the antialiased network is not exact, but close) ...
    assert variant["psnr_vs_fp32_min_db"] > 30
    # ... and another network than the main one: its pictures differ.
    rgb = np.asarray(synthetic_photo(64, 48, seed=5), np.float32)
    served, moving = Stylizer.from_file(out), Stylizer.from_file(out.with_name(variant["file"]))
    assert moving.style_ids == served.style_ids == ["a", "b", "c"]
    assert abs(moving.for_style("b").stylize(rgb) - served.for_style("b").stylize(rgb)).mean() > 1
    assert card["variants_training"][STEADY_VARIANT]["steps"] == 40 and card["training"]["steps"] == 100

    registry = StyleRegistry.from_dir(out.parent)
    listed = registry.list_styles()[0]
    assert STEADY_VARIANT in listed["variants"] and "variants_training" not in listed  # the files, not the record
    assert registry.get("a", moving=True).path == str(out.with_name(variant["file"]))


def test_a_steady_network_of_other_paintings_is_refused(paintings, photo_dir, tmp_path):
    main = checkpoint(tmp_path / "main.pth", trio_network(), paintings, 100)
    swapped = checkpoint(tmp_path / "steady.pth", steady_trio(), [paintings[1], paintings[0], paintings[2]], 40)
    out = tmp_path / "trio.onnx"
    with pytest.raises(ExportError, match="its styles .* are not the main network's"):
        export_model(ExportRequest(checkpoint=main, out=str(out), steady=swapped, eval_photos=str(photo_dir),
                                   eval_size=64, parity_sizes=((32, 24),)), echo=lambda *_: None)
    assert list(tmp_path.glob("trio*")) == [], "refused before anything was written"
