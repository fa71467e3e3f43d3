"""The detail path: a 1x1 convolution from the first layer's full-resolution features to the output layer
(training/model.py), which lets the antialiased network paint fine strokes that move with the picture."""

import copy

import pytest
import torch
from served import export_and_serve

from export.halfres import HalfResTransformer
from export.network import ExportableTransformer
from training.checkpoint import init_from, read_weights
from training.model import TransformerNet, architecture, load_transformer
from training.narrow import narrow_state
from training.recipe import TrainConfig, arguments, parse
from training.stability import ShiftConsistency, moved


def seeded(detail: bool, num_styles=2, width=8) -> TransformerNet:
    torch.manual_seed(0)
    return TransformerNet(num_styles, width, antialias=True, detail=detail).eval()


def with_detail_painting(net: TransformerNet) -> TransformerNet:
    """The path as training leaves it: not zero."""
    with torch.no_grad():
        net.detail_path.weight.normal_(0, 0.5)
        net.detail_path.bias.normal_(0, 0.1)
    return net


def test_it_starts_at_zero_so_a_trained_network_gains_it_painting_the_same(tmp_path):
    path = tmp_path / "smooth.pth"
    torch.save({"model": seeded(False).state_dict(), "config": {"style_ids": ["a", "b"]}}, path)
    detailed = TransformerNet(2, 8, antialias=True, detail=True).eval()
    assert init_from(detailed, path, ["a", "b"]) == []
    assert architecture(detailed.state_dict()) == {"num_styles": 2, "width": 8, "antialias": True, "detail": True}
    assert architecture(seeded(False).state_dict())["detail"] is False
    x = torch.rand(1, 3, 37, 50) * 255
    with torch.no_grad():
        torch.testing.assert_close(detailed(x, torch.tensor([1])), seeded(False)(x, torch.tensor([1])))


def test_training_reaches_it_from_zero_and_it_changes_the_picture():
    net = seeded(True).train()
    x = torch.rand(2, 3, 32, 32) * 255
    net(x, torch.tensor([0, 1])).square().mean().backward()
    assert net.detail_path.weight.grad.abs().sum() > 0  # zero weights, yet a gradient: it can learn
    painted = with_detail_painting(seeded(True))
    with torch.no_grad():
        before, after = seeded(True)(x, torch.tensor([0, 1])), painted(x, torch.tensor([0, 1]))
    assert (after - before).abs().mean() > 0.2 * before.std()


def test_it_moves_with_the_picture_as_closely_as_the_network_without_it():
    """Every layer it adds is full resolution, stride 1: it brings no lattice back."""
    scene = torch.rand(1, 3, 80, 80, generator=torch.Generator().manual_seed(1)) * 255
    criterion = ShiftConsistency(noise_std=0.0)

    def instability(net):
        with torch.no_grad():
            reference = net(scene, torch.tensor([0]))
            return sum(float(criterion(net(moved(scene, *s), torch.tensor([0])), reference, s))
                       for s in ((1, 0), (0, 1), (2, 3)))

    without = seeded(False)
    painted = with_detail_painting(seeded(True))
    painted.load_state_dict(without.state_dict() | {k: v for k, v in painted.state_dict().items() if "detail" in k})
    assert instability(painted) < 1.5 * instability(without)


def test_the_onnx_file_serves_it_and_its_weights_read_back(tmp_path):
    net = with_detail_painting(seeded(True))
    path = tmp_path / "detailed.onnx"
    assert export_and_serve(net, path) < 0.05
    state, ids = read_weights(path)
    assert architecture(state) == {"num_styles": 2, "width": 8, "antialias": True, "detail": True}
    assert torch.equal(load_transformer(state).detail_path.weight, net.detail_path.weight)


def test_the_halfres_variant_computes_it_on_the_phases():
    net = with_detail_painting(seeded(True))
    with torch.no_grad():  # a picture with contrast: the border approximation must show if large
        net.conv_out.conv.weight.mul_(20)
        net.conv_out.conv.bias.fill_(128)
    image = torch.rand(1, 3, 64, 48) * 255
    plain, half = ExportableTransformer(copy.deepcopy(net)).eval(), HalfResTransformer(copy.deepcopy(net)).eval()
    args = (torch.zeros(2, plain.norm_channels), torch.tensor(0.0), torch.tensor([0.3, 0.7]))
    without = copy.deepcopy(net)
    with torch.no_grad():
        without.detail_path.weight.zero_()
        (out, _), (half_out, _) = plain(image, *args), half(image, *args)
        other = ExportableTransformer(without).eval()(image, *args)[0]
    psnr = lambda a, b: float(10 * torch.log10(255 ** 2 / ((a - b) ** 2).mean()))  # noqa: E731
    assert psnr(out, half_out) > 45 and psnr(out, other) < 35  # the same picture, and the path is in it


def test_the_recipe_writes_and_reads_it():
    config = TrainConfig(dataset="photos", style_images=["style.jpg"], out="run", iterations=2, antialias=True,
                         detail=True)
    assert "--detail" in arguments(config) and parse(arguments(config)).detail
    plain = TrainConfig(dataset="photos", style_images=["s.jpg"], out="run", iterations=2)
    assert parse(arguments(plain)).detail is False


def test_narrowing_refuses_it_with_a_reason():
    with pytest.raises(ValueError, match="detail path cannot be narrowed"):
        narrow_state(seeded(True).state_dict(), 4)
