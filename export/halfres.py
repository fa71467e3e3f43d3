"""The transformer network with its full-resolution layers computed at half resolution: the `halfres` variant.

Three layers of the network run at full resolution on few channels: the 9x9 input convolution (3 -> w), the
last upsampling convolution (2w -> w) and the 9x9 output convolution (w -> 3). onnxruntime spends much of a
large photo there, in padding, layout reorders and thin convolutions. Here they run on the 2x2 space-to-depth
image (pixel_unshuffle), the same arithmetic on 4x the channels at a quarter of the positions:

- a 9x9 kernel at full resolution is a 5x5 kernel over the 4 phases of each input channel, to 4 output phases;
- nearest 2x upsampling then a 3x3 kernel is a 3x3 kernel at the low resolution, to 4 output phases;
- the stride-2 3x3 kernel after the first layer is a 2x2 kernel over the phases;
- reflection padding at full resolution is replicate padding at half resolution (exact where one pixel is
  padded); the output convolution's 4-pixel reflection is done at full resolution on the depth-to-space view;
- an instance norm over a phase-split tensor pools each channel's 4 phases (the statistics are the same);
- the detail path's 1x1 kernel maps each phase to itself.

An antialiased network (training/model.py) low-passes before its strides and upsamples bilinearly:
- its symmetric 3x3 low-pass then the stride-2 3x3 kernel is one 5x5 kernel with stride 2, a 3x3 kernel over
  the phases on the split image reflected by 2 full-resolution pixels (exact: the low-pass is symmetric, so
  reflecting its output by one pixel is reflecting its input by two);
- bilinear 2x upsampling then a 3x3 kernel is a 3x3 kernel at the low resolution per output phase (each
  upsampled pixel is 3/4 of its low-resolution pixel and 1/4 of a neighbour), exact inside the picture; on the
  outermost full-resolution row and column it reads one replicated pixel where the network reflects an
  upsampled one, a difference of a quarter of one low-resolution step there.

The image is padded to a multiple of 4 (replicate, bottom and right) and the result cropped, so every level
halves exactly: for sizes that are multiples of 4 the output is the network's own, to float rounding; for
others only the last rows and columns differ. Statistics come out and go in exactly as ExportableTransformer's
(same order, same layout), so tiling works unchanged.
"""

import torch
import torch.nn.functional as F
from torch import nn

from training.model import DETAIL_GAIN, PLAN, TransformerNet

from .network import ExportableTransformer

PHASES = 4  # a 2x2 block: phase = 2 * row parity + column parity; channel c of a split tensor is c * 4 + phase


def nine_to_five(weight: torch.Tensor) -> torch.Tensor:
    """(O, C, 9, 9) at full resolution -> (4O, 4C, 5, 5) on phase-split input and output."""
    out_ch, in_ch, k, _ = weight.shape
    half = (k + 1) // 2  # 5 for k = 9: rows i .. i + 4 of the padded split image
    result = weight.new_zeros(out_ch * PHASES, in_ch * PHASES, half, half)
    for py in range(2):
        for px in range(2):
            for qy in range(2):
                for qx in range(2):
                    for u in range(half):
                        for v in range(half):
                            ky, kx = 2 * u + qy - py, 2 * v + qx - px
                            if 0 <= ky < k and 0 <= kx < k:
                                result[py * 2 + px::PHASES, qy * 2 + qx::PHASES, u, v] = weight[:, :, ky, kx]
    return result


def stride_two_to_phases(weight: torch.Tensor) -> torch.Tensor:
    """(O, C, 3, 3) with stride 2 at full resolution -> (O, 4C, 2, 2) over the phases (rows i - 1 and i)."""
    out_ch, in_ch = weight.shape[:2]
    result = weight.new_zeros(out_ch, in_ch * PHASES, 2, 2)
    for qy in range(2):
        for qx in range(2):
            for u in range(2):
                for v in range(2):
                    ky, kx = 2 * u + qy - 1, 2 * v + qx - 1
                    if 0 <= ky < 3 and 0 <= kx < 3:
                        result[:, qy * 2 + qx::PHASES, u, v] = weight[:, :, ky, kx]
    return result


def upsample_to_phases(weight: torch.Tensor) -> torch.Tensor:
    """Nearest 2x then (O, C, 3, 3) -> (4O, C, 3, 3) at the low resolution, one output phase per 2x2 position."""
    out_ch, in_ch = weight.shape[:2]
    result = weight.new_zeros(out_ch * PHASES, in_ch, 3, 3)
    low = lambda phase, k: 1 + (phase - 1 + k) // 2  # noqa: E731 - the low-resolution tap a full-res tap lands on
    for py in range(2):
        for px in range(2):
            for ky in range(3):
                for kx in range(3):
                    result[py * 2 + px::PHASES, :, low(py, ky), low(px, kx)] += weight[:, :, ky, kx]
    return result


def blur_stride_two_to_phases(weight: torch.Tensor, blur: torch.Tensor) -> torch.Tensor:
    """A symmetric 3x3 low-pass, then (O, C, 3, 3) with stride 2, at full resolution -> (O, 4C, 3, 3) over the
    phases (rows i - 1 .. i + 1), on the split input reflected by 2 full-resolution pixels (reflect_pad)."""
    out_ch, in_ch = weight.shape[:2]
    composite = F.conv2d(F.pad(weight.reshape(-1, 1, 3, 3), (2, 2, 2, 2)), blur.view(1, 1, 3, 3).to(weight.dtype))
    composite = composite.view(out_ch, in_ch, 5, 5)  # the two kernels as one (the low-pass is its own mirror)
    result = weight.new_zeros(out_ch, in_ch * PHASES, 3, 3)
    for qy in range(2):
        for qx in range(2):
            for u in range(3):
                for v in range(3):
                    ky, kx = 2 * u + qy, 2 * v + qx
                    if ky < 5 and kx < 5:
                        result[:, qy * 2 + qx::PHASES, u, v] = composite[:, :, ky, kx]
    return result


def bilinear_taps(phase: int, k: int) -> list:
    """Bilinear 2x then a 3x3 tap k, for output phase `phase`: [(low-resolution tap 0..2, weight)]. The
    upsampled pixel 2j + q is 3/4 of x[j] and 1/4 of x[j - 1] (q = 0) or x[j + 1] (q = 1)."""
    j, q = divmod(phase + k - 1, 2)
    return [(1 + j, 0.75), (1 + j + 2 * q - 1, 0.25)]


def bilinear_upsample_to_phases(weight: torch.Tensor) -> torch.Tensor:
    """Bilinear 2x then (O, C, 3, 3) -> (4O, C, 3, 3) at the low resolution, one output phase per 2x2 position
    (on the input replicated by one pixel, as bilinear interpolation clamps)."""
    out_ch, in_ch = weight.shape[:2]
    result = weight.new_zeros(out_ch * PHASES, in_ch, 3, 3)
    for py in range(2):
        for px in range(2):
            for ky in range(3):
                for kx in range(3):
                    for uy, ay in bilinear_taps(py, ky):
                        for ux, ax in bilinear_taps(px, kx):
                            result[py * 2 + px::PHASES, :, uy, ux] += weight[:, :, ky, kx] * (ay * ax)
    return result


def pointwise_to_phases(weight: torch.Tensor) -> torch.Tensor:
    """(O, C, 1, 1) at full resolution -> (4O, 4C, 1, 1) on phase-split input and output: each phase to itself."""
    out_ch, in_ch = weight.shape[:2]
    result = weight.new_zeros(out_ch * PHASES, in_ch * PHASES, 1, 1)
    for phase in range(PHASES):
        result[phase::PHASES, phase::PHASES] = weight
    return result


def reflect_pad(split: torch.Tensor, rows: int) -> torch.Tensor:
    """Full resolution's reflection padding by 2 * rows pixels, done on the phase-split tensor (`rows` rows and
    columns of phases each side): each padded row takes its row-parity-0 channels from one row and its parity-1
    channels from another, as the full-resolution reflection would. Thin slices and masks: no full-resolution
    tensor."""
    phase = torch.arange(split.shape[1], device=split.device) % PHASES

    def pad(x, dim, parity_of):
        even = (parity_of(phase) == 0).to(x.dtype).view(1, -1, 1, 1)
        row = lambda i: x.narrow(dim, i if i >= 0 else x.shape[dim] + i, 1)  # noqa: E731
        mix = lambda a, b: row(a) * even + row(b) * (1 - even)  # noqa: E731 - parity 0 from a, parity 1 from b
        before = [mix(2, 1), mix(1, 0)][2 - rows:]
        after = [mix(-1, -2), mix(-2, -3)][:rows]
        return torch.cat([*before, x, *after], dim=dim)

    return pad(pad(split, 2, lambda p: p // 2), 3, lambda p: p % 2)


def layer_module(layer) -> str:
    """The module a plan layer's convolution sits in (conv2.0.conv -> conv2.0)."""
    return layer.convs[0].rsplit(".", 1)[0]


def conv_from(weight: torch.Tensor, bias: torch.Tensor, bias_repeat: int) -> nn.Conv2d:
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2], bias=True)
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias.repeat_interleave(bias_repeat))
    return conv


class HalfResTransformer(nn.Module):
    """forward(image, norm_stats_override, norm_stats_mix[, style_weights (S,)]) -> (stylized, norm_stats):
    ExportableTransformer's interface and results, with the full-resolution layers at half resolution."""

    def __init__(self, net: TransformerNet):
        super().__init__()
        self.antialias = net.antialias
        self.exposed = ExportableTransformer(net)  # the norms, with their statistics exposed
        self.norm_channels = self.exposed.norm_channels
        body = self.exposed.net
        # The network's layer plan, by role: the full-resolution input layer, the stride-2 layer after it, the
        # layers at a quarter of the resolution (the next downsampling and the residual blocks), the two
        # upsampling layers, the full-resolution output layer.
        first, down, *middle = [layer for layer in PLAN if layer.kind in ("conv", "residual")]
        up1, up2 = [layer for layer in PLAN if layer.kind == "up"]
        last = PLAN[-1]
        conv = lambda layer: body.get_submodule(layer.convs[0])  # noqa: E731
        self.norms = {layer.name: body.get_submodule(layer.norms[0]) for layer in (first, down, up1, up2)}
        self.roles = (first.name, down.name, up1.name, up2.name)
        self.middle = [body.get_submodule(layer.name) for layer in middle]
        self.conv1 = conv_from(nine_to_five(conv(first).weight), conv(first).bias, PHASES)
        if net.antialias:
            blur = body.get_submodule(layer_module(down) + ".blur").kernel
            self.conv2 = conv_from(blur_stride_two_to_phases(conv(down).weight, blur), conv(down).bias, 1)
        else:
            self.conv2 = conv_from(stride_two_to_phases(conv(down).weight), conv(down).bias, 1)
        upsample = bilinear_upsample_to_phases if net.antialias else upsample_to_phases
        self.up1 = conv_from(upsample(conv(up1).weight), conv(up1).bias, PHASES)
        self.up2 = conv_from(upsample(conv(up2).weight), conv(up2).bias, PHASES)
        self.conv_out = conv_from(nine_to_five(conv(last).weight), conv(last).bias, PHASES)
        if net.detail:
            detail = body.detail_path
            self.detail_path = conv_from(pointwise_to_phases(detail.weight * DETAIL_GAIN), detail.bias * DETAIL_GAIN,
                                         PHASES)

    def forward(self, image, norm_stats_override, norm_stats_mix, style_weights=None):
        ctx = self.exposed.context
        ctx.override, ctx.mix, ctx.collected = norm_stats_override, norm_stats_mix, []
        styles = None if style_weights is None else style_weights.view(1, -1)
        height, width = image.shape[-2:]
        norm_first, norm_down, norm_up1, norm_up2 = (self.norms[name] for name in self.roles)
        try:
            x = F.pad(image, (0, (-width) % 4, 0, (-height) % 4), mode="replicate")
            x = F.pixel_unshuffle(F.pad(x, (4, 4, 4, 4), mode="reflect"), 2)
            first = F.relu(norm_first(self.conv1(x), styles, PHASES))
            h = reflect_pad(first, 1) if self.antialias else F.pad(first, (1, 0, 1, 0), mode="replicate")
            h = F.relu(norm_down(self.conv2(h), styles))
            for layer in self.middle:
                h = layer(h, styles)
            h = F.pixel_shuffle(self.up1(F.pad(h, (1, 1, 1, 1), mode="replicate")), 2)
            h = F.relu(norm_up1(h, styles))
            h = F.relu(norm_up2(self.up2(F.pad(h, (1, 1, 1, 1), mode="replicate")), styles, PHASES))
            if hasattr(self, "detail_path"):
                h = h + self.detail_path(first)
            h = reflect_pad(h, 2)
            out = F.pixel_shuffle(self.conv_out(h), 2)[:, :, :height, :width]
            stats = torch.cat(ctx.collected, dim=2)
        finally:
            ctx.override = ctx.mix = None
            ctx.collected = []
        return out, stats
