"""The image transformation network of Johnson et al. 2016 (Table 1 of the original report),
with conditional instance norm so that one network can serve many styles (Dumoulin, Shlens &
Kudlur 2017, "A Learned Representation for Artistic Style").

Pixel range: the network takes RGB float images in 0..255 (N, 3, H, W) and returns RGB in
0..255, unclamped (clamp when converting to 8-bit). Any height and width work, odd ones
included: the output always has the input's size.

Differences from the paper, both standard since its publication:
- instance normalisation instead of batch normalisation (Ulyanov et al. 2016), with affine
  parameters; here one (gamma, beta) row per style, everything else shared;
- upsampling by nearest-neighbour resize then convolution instead of fractionally strided
  convolution, which avoids checkerboard artefacts (Odena et al. 2016).
Reflection padding everywhere avoids dark borders.

A network with one style is exactly the single-style network of the paper, and loads the
checkpoints written before styles were conditional.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

TABLE_1_WIDTH = 32  # c9s1-32, d64, d128, R128 x5, u64, u32, c9s1-3
HALF_WIDTH = 16  # jcjohnson/fast-neural-style's instance-norm models: "smaller and faster"


class Blur(nn.Module):
    """A fixed binomial low-pass filter ([1, 2, 1] x [1, 2, 1] / 16, per channel, reflection-padded): applied before
    a stride of 2 it leaves little above the new sampling rate to alias (Zhang, ICML 2019, "Making convolutional
    networks shift-invariant again"). Its kernel is a buffer, so that a state dict says the network has it."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels  # a fixed count, so that an exported graph knows the kernel's shape
        taps = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", torch.outer(taps, taps) / 16)

    def forward(self, x):
        kernel = self.kernel.to(x.dtype).expand(self.channels, 1, 3, 3)
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernel, groups=self.channels)


class ConvLayer(nn.Module):
    """Reflection pad, then convolution: keeps the borders free of zero-padding artefacts. An antialiased strided
    convolution low-passes its input first."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 antialias: bool = False):
        super().__init__()
        if antialias and stride > 1:
            self.blur = Blur(in_channels)
        self.pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        if hasattr(self, "blur"):
            x = self.blur(x)
        return self.conv(self.pad(x))


class ConditionalInstanceNorm2d(nn.Module):
    """Instance norm with one (gamma, beta) row per style.

    `styles` picks the rows: None (a one-style network), a LongTensor (N,) of style indices, or
    float weights (N, S) that mix the rows, which blends the styles (gamma and beta are the
    weighted sums).
    """

    takes_styles = True  # run_layers passes it the styles

    def __init__(self, channels: int, num_styles: int = 1, eps: float = 1e-5):
        super().__init__()
        self.num_features, self.num_styles, self.eps = channels, num_styles, eps
        self.weight = nn.Parameter(torch.ones(num_styles, channels))
        self.bias = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(self, x, styles=None):
        if styles is None:
            if self.num_styles != 1:
                raise ValueError(f"a {self.num_styles}-style network needs styles")
            return F.instance_norm(x, weight=self.weight[0], bias=self.bias[0], eps=self.eps)
        if styles.dtype in (torch.int64, torch.int32):
            gamma, beta = self.weight[styles], self.bias[styles]
        else:
            gamma, beta = styles.to(x.dtype) @ self.weight, styles.to(x.dtype) @ self.bias
        x = F.instance_norm(x, eps=self.eps)
        return x * gamma[:, :, None, None] + beta[:, :, None, None]


def run_layers(layers, x, styles):
    """A Sequential's layers in order; the norms also get the styles."""
    for layer in layers:
        x = layer(x, styles) if getattr(layer, "takes_styles", False) else layer(x)
    return x


class ConvNormReLU(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, num_styles: int = 1,
                 antialias: bool = False):
        super().__init__(
            ConvLayer(in_channels, out_channels, kernel_size, stride, antialias),
            ConditionalInstanceNorm2d(out_channels, num_styles),
            nn.ReLU(inplace=True),
        )

    def forward(self, x, styles=None):
        return run_layers(self, x, styles)


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection (He et al. 2016), as in the paper's supplement."""

    def __init__(self, channels: int, num_styles: int = 1):
        super().__init__()
        self.block = nn.Sequential(
            ConvLayer(channels, channels, 3),
            ConditionalInstanceNorm2d(channels, num_styles),
            nn.ReLU(inplace=True),
            ConvLayer(channels, channels, 3),
            ConditionalInstanceNorm2d(channels, num_styles),
        )

    def forward(self, x, styles=None):
        return x + run_layers(self.block, x, styles)


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour upsampling to a given size, then reflection-padded convolution; an antialiased network
    interpolates (bilinear) instead, so that its strokes are not copies of a coarser lattice's cells.

    Upsampling to the size of the matching encoder activation (rather than by a fixed 2x)
    is what lets odd input sizes come back at exactly their own size.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, num_styles: int = 1,
                 antialias: bool = False):
        super().__init__()
        self.mode = "bilinear" if antialias else "nearest"
        self.conv = ConvNormReLU(in_channels, out_channels, kernel_size, num_styles=num_styles)

    def forward(self, x, size, styles=None):
        if self.mode == "nearest":
            return self.conv(F.interpolate(x, size=size, mode="nearest"), styles)
        return self.conv(F.interpolate(x, size=size, mode="bilinear", align_corners=False), styles)


RESIDUAL_BLOCKS = 5  # Table 1
# The detail path's output is its weights' times this: Adam moves each weight by about the learning rate a step,
# so the path, which starts at zero beside trained layers, learns this much faster (as the equalized learning
# rate of Karras et al. 2018). The exported files fold it into the weights.
DETAIL_GAIN = 10.0


@dataclass(frozen=True)
class Layer:
    """One layer of the plan: its module's name in TransformerNet (and so in a state dict), what it is, and its
    channels in multiples of the width (0: the RGB image's 3)."""

    name: str
    kind: str  # "conv": conv, norm, ReLU; "residual": two of them and a skip; "up": nearest 2x, then "conv"; "out"
    channels_in: int
    channels_out: int
    kernel: int
    stride: int = 1

    @property
    def convs(self) -> list:
        """The state-dict prefixes of its convolutions, in order."""
        return {"conv": [f"{self.name}.0.conv"], "residual": [f"{self.name}.block.0.conv", f"{self.name}.block.3.conv"],
                "up": [f"{self.name}.conv.0.conv"], "out": [f"{self.name}.conv"]}[self.kind]

    @property
    def norms(self) -> list:
        """The state-dict prefixes of its instance norms, each after the convolution of the same place."""
        return {"conv": [f"{self.name}.1"], "residual": [f"{self.name}.block.1", f"{self.name}.block.4"],
                "up": [f"{self.name}.conv.1"], "out": []}[self.kind]

    def channels(self, width: int) -> tuple[int, int]:
        return self.channels_in * width or 3, self.channels_out * width or 3


# Table 1 (with w the width, 32 there): c9s1-w, d2w, d4w, R4w x5, u2w, uw, c9s1-3. The one place the network's
# layers are written: TransformerNet builds them, architecture() reads a state dict by them, narrow.py narrows
# by them, and export/halfres.py finds the full-resolution ones.
PLAN = (
    Layer("conv1", "conv", 0, 1, 9),
    Layer("conv2", "conv", 1, 2, 3, stride=2),
    Layer("conv3", "conv", 2, 4, 3, stride=2),
    *(Layer(f"residuals.{i}", "residual", 4, 4, 3) for i in range(RESIDUAL_BLOCKS)),
    Layer("up1", "up", 4, 2, 3),
    Layer("up2", "up", 2, 1, 3),
    Layer("conv_out", "out", 1, 0, 9),
)


def build_layer(layer: Layer, width: int, num_styles: int, antialias: bool = False) -> nn.Module:
    channels_in, channels_out = layer.channels(width)
    if layer.kind == "conv":
        return ConvNormReLU(channels_in, channels_out, layer.kernel, layer.stride, num_styles, antialias)
    if layer.kind == "residual":
        return ResidualBlock(channels_out, num_styles)
    if layer.kind == "up":
        return UpsampleConvLayer(channels_in, channels_out, layer.kernel, num_styles, antialias)
    return ConvLayer(channels_in, channels_out, layer.kernel)


class TransformerNet(nn.Module):
    """9x9 conv w, 3x3/2 conv 2w, 3x3/2 conv 4w, 5 residual blocks of 4w, two upsampling convs to
    2w and w, 9x9 conv to 3; w = 32 in Table 1 (PLAN). Every instance norm has one row per style.

    antialias: the two stride-2 layers low-pass their input (Blur) and the two upsamplings interpolate. Without
    it the strokes sit on a 4-pixel lattice and jump when the picture moves by 1 to 3 pixels: a video boils
    (training/stability.py). The same weights either way: a trained network can be fine-tuned into it.

    detail: a 1x1 convolution from the first layer's full-resolution features, added before the output layer.
    An antialiased network's decoder only has interpolated, smooth features to paint fine strokes from; this
    path gives it the photo's own fine detail at full resolution, where every operation moves with the picture.
    It starts at zero, so a trained network gains it without changing what it paints."""

    def __init__(self, num_styles: int = 1, width: int = TABLE_1_WIDTH, antialias: bool = False,
                 detail: bool = False):
        super().__init__()
        if num_styles < 1 or width < 1:
            raise ValueError("a transformer network needs at least one style and a width of at least 1")
        self.num_styles, self.width, self.antialias, self.detail = num_styles, width, antialias, detail
        for layer in PLAN:  # in the plan's order: the order of the initial weights' random draws
            module = build_layer(layer, width, num_styles, antialias)
            if layer.kind == "residual":
                if "residuals" not in self._modules:
                    self.residuals = nn.ModuleList()
                self.residuals.append(module)
            else:
                setattr(self, layer.name, module)
        if detail:
            self.detail_path = nn.Conv2d(width, width, 1)
            nn.init.zeros_(self.detail_path.weight)
            nn.init.zeros_(self.detail_path.bias)

    def forward(self, x, styles=None):
        """styles: None for a one-style network, else style indices (N,) or blend weights (N, S)."""
        full = x.shape[-2:]
        h1 = self.conv1(x, styles)
        h2 = self.conv2(h1, styles)
        half = h2.shape[-2:]
        h = self.conv3(h2, styles)
        for block in self.residuals:
            h = block(h, styles)
        h = self.up1(h, half, styles)
        h = self.up2(h, full, styles)
        if self.detail:
            h = h + DETAIL_GAIN * self.detail_path(h1)
        return self.conv_out(h)

    def norm_layers(self) -> list:
        return [m for m in self.modules() if isinstance(m, ConditionalInstanceNorm2d)]

    def shared_parameters(self) -> list:
        """Everything but the per-style gammas and betas: the convolutions all styles share."""
        norm_params = {id(p) for n in self.norm_layers() for p in (n.weight, n.bias)}
        return [p for p in self.parameters() if id(p) not in norm_params]


def is_style_row(key: str, value: torch.Tensor) -> bool:
    """A conditional instance norm's (styles, channels) scales or shifts: the only per-style weights."""
    return value.dim() == 2 and key.endswith((".weight", ".bias"))


def clean_state_dict(state_dict: dict) -> dict:
    """Strip DDP/compile prefixes, and give single-style norms saved before conditional norm ([C]) a row axis."""
    cleaned = {}
    for key, value in state_dict.items():
        for prefix in ("module.", "_orig_mod.", "net."):
            while key.startswith(prefix):
                key = key[len(prefix):]
        cleaned[key] = value
    for key, value in list(cleaned.items()):
        if (key.endswith((".weight", ".bias")) and value.dim() == 1 and not key.endswith(("conv.weight", "conv.bias"))
                and not is_detail(key)):
            cleaned[key] = value.unsqueeze(0)
    return cleaned


def is_blur(key: str) -> bool:
    """A fixed low-pass kernel of an antialiased network: no weight, the same in every network that has one."""
    return key.endswith(".blur.kernel")


def is_detail(key: str) -> bool:
    """A weight of TransformerNet's full-resolution detail path."""
    return key.startswith("detail_path.")


def architecture(state_dict: dict) -> dict:
    """num_styles, width, antialias and detail, read off a (cleaned) state dict: its first layer's norm rows and
    output channels, whether it has the low-pass kernels, and whether it has the detail path."""
    first = PLAN[0]
    return {"num_styles": state_dict[f"{first.norms[0]}.weight"].shape[0],
            "width": state_dict[f"{first.convs[0]}.weight"].shape[0] // first.channels_out,
            "antialias": any(is_blur(key) for key in state_dict),
            "detail": any(is_detail(key) for key in state_dict)}


def load_transformer(state_dict: dict) -> TransformerNet:
    """A TransformerNet in eval mode from a state dict (plain, or saved from a DDP/compiled model)."""
    cleaned = clean_state_dict(state_dict)
    net = TransformerNet(**architecture(cleaned))
    net.load_state_dict(cleaned)
    return net.eval()


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
