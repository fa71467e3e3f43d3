"""The transformer network as it is exported: the same weights, with its instance-norm statistics exposed.

Instance norm normalises each image by its own per-channel mean and variance. Tiles of one photo
would each get their own, and their colours would not match. So every instance-norm layer here
computes its statistics explicitly, reports them (output "norm_stats"), and can take them from
outside instead ("norm_stats_override" with "norm_stats_mix" = 1): measure once on the whole
(scaled-down) photo, then reuse in every tile. With mix = 0, the default, this is the plain network.
"""

import torch
import torch.nn.functional as F
from torch import nn

from training.model import ConditionalInstanceNorm2d, TransformerNet


class NormStatsContext:
    """What the instance-norm layers share during one forward pass."""

    def __init__(self):
        self.override = None  # (2, C_total): means, then variances
        self.mix = None  # scalar: 0 = own statistics, 1 = the override
        self.collected = []  # each layer's own (N, 2, C)


class ExposedInstanceNorm(nn.Module):
    """The conditional instance norm, written out so its statistics can be read and replaced.

    A one-style network's gamma and beta are its one row; a multi-style network's are the rows
    mixed by the style weights (1, S), which is what blends styles.
    """

    takes_styles = True

    def __init__(self, norm: ConditionalInstanceNorm2d, offset: int, context: NormStatsContext):
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps
        self.offset, self.channels, self.context = offset, norm.num_features, context

    def forward(self, x, styles=None, phases: int = 1):
        """phases > 1: x is phase-split (export/halfres.py), channel c * phases + p; a channel's statistics pool
        its phases, and its scale and shift apply to each of them."""
        gamma, beta = (self.weight[0], self.bias[0]) if styles is None else (styles @ self.weight, styles @ self.bias)
        ctx = self.context
        # Spatial means as global average pooling: onnxruntime runs GlobalAveragePool in its blocked
        # (NCHWc) layout next to the convolutions, where ReduceMean forces layout reorders.
        def pool(t):  # (N, C, 1, 1): each channel's mean, over its phases too
            pooled = F.adaptive_avg_pool2d(t, 1)
            return pooled if phases == 1 else pooled.view(t.shape[0], -1, phases, 1).mean(2, keepdim=True)

        spread = lambda t: t if phases == 1 else t.repeat_interleave(phases, dim=1)  # noqa: E731 - back to phases
        mean = pool(x)
        var = pool((x - spread(mean)).square())  # biased, as instance norm uses
        ctx.collected.append(torch.cat([mean, var], dim=2).flatten(2).transpose(1, 2))  # (N, 2, C)
        span = slice(self.offset, self.offset + self.channels)
        given_mean = ctx.override[0, span].view(1, -1, 1, 1)
        given_var = ctx.override[1, span].view(1, -1, 1, 1)
        mean = mean + ctx.mix * (given_mean - mean)
        var = var + ctx.mix * (given_var - var)
        # One per-channel scale and shift, so the full-size tensor is touched only twice.
        scale = gamma.view(1, -1, 1, 1) * torch.rsqrt(var + self.eps)
        return x * spread(scale) + spread(beta.view(1, -1, 1, 1) - mean * scale)


class ExportableTransformer(nn.Module):
    """forward(image, norm_stats_override, norm_stats_mix[, style_weights (S,)]) -> (stylized, norm_stats)."""

    def __init__(self, net: TransformerNet):
        super().__init__()
        self.context = NormStatsContext()
        self.net = net
        self.norm_channels = 0
        self._expose(self.net)

    def _expose(self, module):
        for name, child in module.named_children():
            if isinstance(child, ConditionalInstanceNorm2d):
                setattr(module, name, ExposedInstanceNorm(child, self.norm_channels, self.context))
                self.norm_channels += child.num_features
            else:
                self._expose(child)

    def forward(self, image, norm_stats_override, norm_stats_mix, style_weights=None):
        ctx = self.context
        ctx.override, ctx.mix, ctx.collected = norm_stats_override, norm_stats_mix, []
        try:
            out = self.net(image, None if style_weights is None else style_weights.view(1, -1))
            stats = torch.cat(ctx.collected, dim=2)
        finally:
            ctx.override = ctx.mix = None
            ctx.collected = []
        return out, stats
