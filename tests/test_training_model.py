import pytest
import torch

from training.losses import PerceptualLoss, gram_matrix, tv_loss
from training.model import ConditionalInstanceNorm2d, TransformerNet, load_transformer
from training.vgg import load_loss_network


@pytest.mark.parametrize("height,width", [(5, 5), (17, 23), (32, 32), (33, 65), (64, 31), (101, 7)])
def test_transformer_keeps_any_size(height, width):
    net = TransformerNet().eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, height, width) * 255)
    assert out.shape == (2, 3, height, width)
    assert torch.isfinite(out).all()


def test_transformer_matches_table_1():
    net = TransformerNet()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    shapes = [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs]
    assert shapes[:3] == [(3, 32, 9, 1), (32, 64, 3, 2), (64, 128, 3, 2)]
    assert shapes[3:13] == [(128, 128, 3, 1)] * 10  # five residual blocks of two convs
    assert shapes[13:] == [(128, 64, 3, 1), (64, 32, 3, 1), (32, 3, 9, 1)]
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())
    norms = [m for m in net.modules() if isinstance(m, ConditionalInstanceNorm2d)]
    assert len(norms) == 15 and all(n.weight.shape == (1, n.num_features) for n in norms)


def test_load_transformer_strips_ddp_and_compile_prefixes():
    net = TransformerNet()
    state = {f"module._orig_mod.{k}": v for k, v in net.state_dict().items()}
    loaded = load_transformer(state)
    x = torch.rand(1, 3, 20, 20) * 255
    with torch.no_grad():
        assert torch.equal(loaded(x), net.eval()(x))


def test_gram_matrix_by_hand():
    # one image, two channels, 2x2 positions
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, -1.0]]]])
    a, b = f[0, 0].flatten(), f[0, 1].flatten()
    expected = torch.tensor([[a @ a, a @ b], [b @ a, b @ b]]) / (2 * 2 * 2)
    assert torch.allclose(gram_matrix(f)[0], expected)


def test_gram_matrix_is_float32_under_autocast():
    f = torch.rand(2, 8, 16, 16).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        g = gram_matrix(f)
    assert g.dtype == torch.float32
    assert torch.allclose(g, gram_matrix(f.float()))


def test_tv_loss_zero_for_flat_and_positive_for_edges():
    assert tv_loss(torch.full((1, 3, 8, 8), 100.0)) == 0
    step = torch.zeros(1, 3, 8, 8)
    step[..., 4:] = 10.0
    assert tv_loss(step) == pytest.approx(100.0 * 8 / (8 * 7))  # one column of 10-jumps in 7 columns


def test_perceptual_losses_are_finite_and_positive():
    criterion = PerceptualLoss(load_loss_network("random"), torch.rand(3, 40, 48) * 255)
    content = torch.rand(2, 3, 32, 32) * 255
    output = TransformerNet()(content)
    losses = criterion(output, content)
    values = losses.as_floats()
    assert all(torch.isfinite(torch.tensor(v)) and v > 0 for v in values.values()), values
    losses.total.backward()  # gradients flow to the transformer only


def test_content_loss_is_zero_for_the_content_itself():
    criterion = PerceptualLoss(load_loss_network("random"), torch.rand(3, 40, 48) * 255)
    content = torch.rand(1, 3, 32, 32) * 255
    assert float(criterion(content, content).content) == 0.0


def test_loss_network_is_frozen_and_stops_early():
    vgg = load_loss_network("random")
    vgg.train()
    assert not vgg.training
    assert not any(p.requires_grad for p in vgg.parameters())
    feats = vgg(torch.rand(1, 3, 64, 64) * 255, ("relu2_2",))
    assert list(feats) == ["relu2_2"] and feats["relu2_2"].shape == (1, 128, 32, 32)
    feats = vgg(torch.rand(1, 3, 64, 64) * 255)
    assert [f.shape[1:] for f in feats.values()] == [(64, 64, 64), (128, 32, 32), (256, 16, 16), (512, 8, 8)]


def test_random_loss_network_warns_loudly():
    with pytest.warns(UserWarning, match="RANDOM weights"):
        load_loss_network("random")


def test_gatys_lowers_the_loss_from_white_noise():
    from training.gatys import gatys

    torch.manual_seed(0)
    criterion = PerceptualLoss(load_loss_network("random"), torch.rand(3, 32, 32) * 255)
    photo = torch.rand(3, 24, 20) * 255
    snapshots = gatys(criterion, photo, iterations=(2, 10, 40))
    assert set(snapshots) == {2, 10, 40} and snapshots[10].shape == photo.shape
    start = torch.rand(photo.shape, generator=torch.Generator().manual_seed(0)) * 255
    with torch.no_grad():
        loss = {k: float(criterion(v.unsqueeze(0), photo.unsqueeze(0)).total) for k, v in snapshots.items()}
        initial = float(criterion(start.unsqueeze(0), photo.unsqueeze(0)).total)
    # Still falling late on, not stalled.
    assert loss[40] < loss[10] < loss[2] < initial
