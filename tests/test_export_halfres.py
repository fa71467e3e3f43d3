"""The halfres variant (export/halfres.py): the network's full-resolution layers computed at half resolution.
The same network: its output and instance-norm statistics match the plain export's to float rounding where the
sides are multiples of 4, and elsewhere equal the network's on the image padded to them; tiles still agree."""

import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from stylecore import Stylizer
from synthetic import synthetic_photo
from test_multistyle_serving import trio_network

from export.exporter import ExportRequest, export_model
from export.halfres import HalfResTransformer
from export.network import ExportableTransformer
from training.model import TransformerNet


@pytest.fixture(scope="module")
def net() -> TransformerNet:
    """Three styles whose norms differ per style (not the identity), as the multi-style serving tests use."""
    return trio_network()


def both(net, image, override=None, mix=0.0, weights=(0.2, 0.5, 0.3)):
    plain = ExportableTransformer(copy.deepcopy(net)).eval()
    half = HalfResTransformer(copy.deepcopy(net)).eval()
    channels = plain.norm_channels
    args = (torch.zeros(2, channels) if override is None else override, torch.tensor(mix), torch.tensor(weights))
    with torch.no_grad():
        return plain(image, *args), half(image, *args)


@pytest.mark.parametrize("size", [(32, 48), (64, 20), (8, 8)])
def test_sides_that_are_multiples_of_4_give_the_networks_own_output_and_statistics(net, size):
    image = torch.rand(1, 3, *size) * 255
    (out, stats), (half_out, half_stats) = both(net, image)
    assert half_out.shape == out.shape and out.abs().max() > 100  # a real picture, not near zero
    torch.testing.assert_close(half_out, out, atol=2e-3, rtol=1e-4)
    torch.testing.assert_close(half_stats, stats, atol=1e-2, rtol=1e-4)
    # Statistics given from outside (what tiles do) act the same way.
    (given, _), (half_given, _) = both(net, image, override=stats[0] * 1.5, mix=1.0)
    torch.testing.assert_close(half_given, given, atol=2e-3, rtol=1e-4)
    assert (given - out).abs().max() > 1  # the override did change the picture


@pytest.mark.parametrize("size", [(33, 47), (5, 7), (9, 6)])
def test_other_sides_give_the_networks_output_on_the_image_padded_to_multiples_of_4(net, size):
    image = torch.rand(1, 3, *size) * 255
    padded = F.pad(image, (0, (-size[1]) % 4, 0, (-size[0]) % 4), mode="replicate")
    (out, _), (half_out, _) = both(net, padded)
    _, (cropped, _) = both(net, image)
    assert cropped.shape[-2:] == size
    torch.testing.assert_close(cropped, out[..., :size[0], :size[1]], atol=2e-3, rtol=1e-4)


def test_the_exporter_writes_it_as_a_variant_judged_against_fp32(net, photo_dir, tmp_path):
    checkpoint = tmp_path / "net.pth"
    paintings = []
    for i in range(3):
        paintings.append(tmp_path / f"p{i}.png")
        synthetic_photo(40, 40, seed=60 + i).save(paintings[-1])
    torch.save({"model": net.state_dict(), "config": {"style_ids": ["a", "b", "c"],
                                                      "style_images": [str(p) for p in paintings]}}, checkpoint)
    out = tmp_path / "models" / "trio.onnx"
    out.parent.mkdir()
    card = export_model(ExportRequest(checkpoint=str(checkpoint), out=str(out), halfres=True,
                                      eval_photos=str(photo_dir), eval_size=64, parity_sizes=((32, 24),)),
                        echo=lambda *_: None)
    variant = card["variants"]["halfres"]
    assert variant["file"] == "trio.halfres.onnx" and variant["psnr_vs_fp32_min_db"] > 30
    assert json.loads((out.parent / "trio.json").read_text())["variants"]["halfres"] == variant

    fp32, half = Stylizer.from_file(out), Stylizer.from_file(out.with_name(variant["file"]))
    assert half.style_ids == ["a", "b", "c"] and half.has_norm_stats
    rgb = np.asarray(synthetic_photo(96, 64, seed=3), np.float32)  # both sides multiples of 4
    for style in ("a", "c"):
        np.testing.assert_allclose(half.for_style(style).stylize(rgb), fp32.for_style(style).stylize(rgb), atol=0.05)
    # Tiles, with the whole image's statistics, agree with the whole image as the plain file's do.
    tiled = half.for_style("b").stylize_tiled(rgb, tile_size=48, margin=24)
    whole = half.for_style("b").stylize_whole(rgb)
    plain_gap = np.abs(fp32.for_style("b").stylize_tiled(rgb, tile_size=48, margin=24)
                       - fp32.for_style("b").stylize_whole(rgb)).max()
    assert np.abs(tiled - whole).max() <= plain_gap + 1.0
