"""The antialiased transformer network: low-pass before each stride of 2, bilinear upsampling (training/model.py)."""

import copy
import json
from pathlib import Path

import onnx
import torch
import torch.nn.functional as F
from served import export_and_serve

from export import halfres
from export.halfres import HalfResTransformer
from export.network import ExportableTransformer
from export.onnx_file import to_onnx
from training.checkpoint import init_from, read_weights
from training.model import Blur, TransformerNet, architecture, load_transformer
from training.recipe import TrainConfig, arguments, parse
from training.stability import ShiftConsistency, moved
from training.train import train


def seeded(antialias: bool, num_styles=2, width=8) -> TransformerNet:
    torch.manual_seed(0)
    return TransformerNet(num_styles, width, antialias=antialias).eval()


def test_same_weights_same_sizes_and_the_state_dict_says_which_network():
    plain, smooth = seeded(False), seeded(True)
    assert {k for k in smooth.state_dict() if k not in plain.state_dict()} == {"conv2.0.blur.kernel",
                                                                              "conv3.0.blur.kernel"}
    assert architecture(plain.state_dict())["antialias"] is False
    assert architecture(smooth.state_dict()) == {"num_styles": 2, "width": 8, "antialias": True, "detail": False}
    smooth.load_state_dict(plain.state_dict() | {k: v for k, v in smooth.state_dict().items() if "blur" in k})
    for h, w in ((37, 50), (16, 16), (9, 13)):
        x = torch.rand(1, 3, h, w) * 255
        with torch.no_grad():
            a, b = plain(x, torch.tensor([1])), smooth(x, torch.tensor([1]))
        assert a.shape == b.shape == x.shape
        assert not torch.allclose(a, b)  # the same weights, resampled differently
    loaded = load_transformer(smooth.state_dict())
    assert loaded.antialias and torch.equal(loaded(x, torch.tensor([0])), smooth(x, torch.tensor([0])))


def test_a_trained_plain_network_starts_an_antialiased_one(tmp_path):
    path = tmp_path / "plain.pth"
    torch.save({"model": seeded(False).state_dict(), "config": {"style_ids": ["a", "b"]}}, path)
    smooth = TransformerNet(2, 8, antialias=True)
    assert init_from(smooth, path, ["a", "b"]) == []
    plain_state = seeded(False).state_dict()
    for key, value in smooth.state_dict().items():
        if "blur" not in key:
            assert torch.equal(value, plain_state[key]), key


def instability(net, scene) -> float:
    criterion = ShiftConsistency(noise_std=0.0)
    with torch.no_grad():
        reference = net(scene, torch.tensor([0]))
        return sum(float(criterion(net(moved(scene, *s), torch.tensor([0])), reference, s))
                   for s in ((1, 0), (0, 1), (2, 3)))


def test_the_antialiased_network_follows_a_sub_lattice_move_more_closely_with_the_same_weights():
    scene = torch.rand(1, 3, 80, 80, generator=torch.Generator().manual_seed(1)) * 255
    plain, smooth = seeded(False), seeded(True)
    smooth.load_state_dict(plain.state_dict() | {k: v for k, v in smooth.state_dict().items() if "blur" in k})
    assert instability(smooth, scene) < 0.5 * instability(plain, scene)


def test_the_onnx_file_serves_it_and_says_so_and_its_weights_read_back(tmp_path):
    net = seeded(True)
    path = tmp_path / "smooth.onnx"
    assert export_and_serve(net, path) < 0.05
    state, ids = read_weights(path)
    assert architecture(state)["antialias"] and ids == ["a", "b"]
    plain_path = tmp_path / "plain.onnx"
    onnx.save(to_onnx(seeded(False), {"style_id": "plain"}, ["a", "b"]), plain_path)
    assert architecture(read_weights(plain_path)[0])["antialias"] is False


def test_the_halfres_layers_of_an_antialiased_network_are_its_own():
    """The low-pass then stride 2 is one kernel over the phases (exact, borders included); bilinear 2x then a
    3x3 kernel is one kernel at the low resolution (exact inside; the outermost pixel reads a replicated one)."""
    torch.manual_seed(0)
    x, weight, bias = torch.randn(1, 4, 16, 20), torch.randn(5, 4, 3, 3), torch.randn(5)
    blur = Blur(4).kernel
    smoothed = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), blur.expand(4, 1, 3, 3), groups=4)
    expected = F.conv2d(F.pad(smoothed, (1, 1, 1, 1), mode="reflect"), weight, bias, stride=2)
    down = halfres.conv_from(halfres.blur_stride_two_to_phases(weight, blur), bias, 1)
    torch.testing.assert_close(down(halfres.reflect_pad(F.pixel_unshuffle(x, 2), 1)), expected, atol=1e-4, rtol=1e-4)
    low = torch.randn(1, 4, 8, 10)
    upsampled = F.interpolate(low, scale_factor=2, mode="bilinear", align_corners=False)
    expected = F.conv2d(F.pad(upsampled, (1, 1, 1, 1), mode="reflect"), weight, bias)
    up = halfres.conv_from(halfres.bilinear_upsample_to_phases(weight), bias, halfres.PHASES)
    got = F.pixel_shuffle(up(F.pad(low, (1, 1, 1, 1), mode="replicate")), 2)
    torch.testing.assert_close(got[..., 1:-1, 1:-1], expected[..., 1:-1, 1:-1], atol=1e-4, rtol=1e-4)
    assert (got - expected).abs().max() > 1e-2  # the border is where it differs, as its docstring says


def test_the_halfres_variant_of_an_antialiased_network_matches_it_within_its_borders():
    net = seeded(True, num_styles=2, width=8)
    with torch.no_grad():  # a picture with contrast, not near zero: the border approximation must show if large
        net.conv_out.conv.weight.mul_(20)
        net.conv_out.conv.bias.fill_(128)
    image = torch.rand(1, 3, 64, 48) * 255
    plain, half = ExportableTransformer(copy.deepcopy(net)).eval(), HalfResTransformer(copy.deepcopy(net)).eval()
    args = (torch.zeros(2, plain.norm_channels), torch.tensor(0.0), torch.tensor([0.3, 0.7]))
    with torch.no_grad():
        (out, stats), (half_out, half_stats) = plain(image, *args), half(image, *args)
    psnr = 10 * torch.log10(255 ** 2 / ((out - half_out) ** 2).mean())
    assert out.max() - out.min() > 30 and psnr > 45, float(psnr)
    torch.testing.assert_close(half_stats, stats, atol=0.5, rtol=0.05)


def test_the_recipe_writes_and_reads_it_and_a_run_trains_resumes_and_records_it(photo_dir, style_image, tmp_path):
    config = TrainConfig(dataset=str(photo_dir), style_images=[str(style_image)], out=str(tmp_path / "run"),
                         iterations=2, batch_size=2, image_size=32, style_size=48, vgg_weights="random", workers=0,
                         log_every=1, checkpoint_every=1, sample_every=100, device="cpu", antialias=True)
    assert "--antialias" in arguments(config) and parse(arguments(config)).antialias
    result = train(config)
    assert result["summary"]["hyperparameters"]["antialias"] is True
    final = torch.load(Path(config.out) / "final.pth", weights_only=False)
    assert architecture(final["model"])["antialias"]
    longer = TrainConfig(**{**config.__dict__, "iterations": 3, "resume": str(Path(config.out) / "final.pth")})
    assert train(longer)["step"] == 3
    assert json.loads((Path(config.out) / "training_summary.json").read_text())["steps"] == 3
