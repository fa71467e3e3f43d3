"""The image transformation network of Johnson et al. 2016 (Table 1 of the original report).

Pixel range: the network takes RGB float images in 0..255 (N, 3, H, W) and returns RGB in
0..255, unclamped (clamp when converting to 8-bit). Any height and width work, odd ones
included: the output always has the input's size.

Differences from the paper, both standard since its publication:
- instance normalisation instead of batch normalisation (Ulyanov et al. 2016), with affine
  parameters;
- upsampling by nearest-neighbour resize then convolution instead of fractionally strided
  convolution, which avoids checkerboard artefacts (Odena et al. 2016).
Reflection padding everywhere avoids dark borders.
"""

import torch
import torch.nn.functional as F
from torch import nn


class ConvLayer(nn.Module):
    """Reflection pad, then convolution: keeps the borders free of zero-padding artefacts."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv(self.pad(x))


class ConvNormReLU(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__(
            ConvLayer(in_channels, out_channels, kernel_size, stride),
            nn.InstanceNorm2d(out_channels, affine=True),
            nn.ReLU(inplace=True),
        )


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection (He et al. 2016), as in the paper's supplement."""

    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            ConvLayer(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            ConvLayer(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x):
        return x + self.block(x)


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour upsampling to a given size, then reflection-padded convolution.

    Upsampling to the size of the matching encoder activation (rather than by a fixed 2x)
    is what lets odd input sizes come back at exactly their own size.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = ConvNormReLU(in_channels, out_channels, kernel_size)

    def forward(self, x, size):
        return self.conv(F.interpolate(x, size=size, mode="nearest"))


class TransformerNet(nn.Module):
    """9x9 conv 32, 3x3/2 conv 64, 3x3/2 conv 128, 5 residual blocks of 128,
    two upsampling convs to 64 and 32, 9x9 conv to 3."""

    def __init__(self):
        super().__init__()
        self.conv1 = ConvNormReLU(3, 32, 9)
        self.conv2 = ConvNormReLU(32, 64, 3, stride=2)
        self.conv3 = ConvNormReLU(64, 128, 3, stride=2)
        self.residuals = nn.Sequential(*[ResidualBlock(128) for _ in range(5)])
        self.up1 = UpsampleConvLayer(128, 64, 3)
        self.up2 = UpsampleConvLayer(64, 32, 3)
        self.conv_out = ConvLayer(32, 3, 9)

    def forward(self, x):
        full = x.shape[-2:]
        h1 = self.conv1(x)
        h2 = self.conv2(h1)
        half = h2.shape[-2:]
        h = self.residuals(self.conv3(h2))
        h = self.up1(h, half)
        h = self.up2(h, full)
        return self.conv_out(h)


def load_transformer(state_dict: dict) -> TransformerNet:
    """A TransformerNet in eval mode from a state dict (plain, or saved from a DDP/compiled model)."""
    cleaned = {}
    for key, value in state_dict.items():
        for prefix in ("module.", "_orig_mod."):
            while key.startswith(prefix):
                key = key[len(prefix):]
        cleaned[key] = value
    net = TransformerNet()
    net.load_state_dict(cleaned)
    return net.eval()


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@torch.no_grad()
def stylize_tensor(net: TransformerNet, image: torch.Tensor) -> torch.Tensor:
    """(3, H, W) or (N, 3, H, W) float 0..255 in, same shape out, clamped to 0..255."""
    batched = image if image.dim() == 4 else image.unsqueeze(0)
    out = net(batched).clamp(0, 255)
    return out if image.dim() == 4 else out[0]
