"""A narrower network from a trained wider one: keep each layer's most important channels, then fine-tune.

The speed goal of the served network depends on its width (benchmarks/network_width.py), and a network trained
at one width holds most of what a narrower one needs. As in network slimming (Liu et al. 2017), a channel's
importance is the size of the instance-norm scales that follow it, |gamma|, averaged over the styles: a channel
whose every style scales it to nearly zero contributes nearly nothing downstream. Each set of channels that one
norm (or, for the residual trunk, the skip connections) ties together keeps its most important ones, in order;
its producing convolutions lose those output channels, its consuming convolutions those input channels.
"""

import torch

from .model import RESIDUAL_BLOCKS, architecture


def channel_sets() -> list:
    """(norms, producers, consumers, width multiple) of each set of channels that must be narrowed together."""
    blocks = [f"residuals.{i}.block" for i in range(RESIDUAL_BLOCKS)]
    return [
        (["conv1.1"], ["conv1.0.conv"], ["conv2.0.conv"], 1),
        (["conv2.1"], ["conv2.0.conv"], ["conv3.0.conv"], 2),
        # The trunk: conv3's output, which every residual block adds to, and up1 reads.
        (["conv3.1", *(f"{b}.4" for b in blocks)], ["conv3.0.conv", *(f"{b}.3.conv" for b in blocks)],
         [*(f"{b}.0.conv" for b in blocks), "up1.conv.0.conv"], 4),
        *(([f"{b}.1"], [f"{b}.0.conv"], [f"{b}.3.conv"], 4) for b in blocks),
        (["up1.conv.1"], ["up1.conv.0.conv"], ["up2.conv.0.conv"], 2),
        (["up2.conv.1"], ["up2.conv.0.conv"], ["conv_out.conv"], 1),
    ]


def narrow_state(state: dict, width: int) -> dict:
    """The state dict of a `width` network made of the wider `state`'s most important channels."""
    source_width = architecture(state)["width"]
    if width > source_width:
        raise ValueError(f"a network of width {source_width} cannot be widened to {width}")
    state = dict(state)
    for norms, producers, consumers, multiple in channel_sets():
        importance = torch.stack([state[f"{n}.weight"].abs().mean(0) for n in norms]).mean(0)
        keep = importance.topk(width * multiple).indices.sort().values
        for n in norms:
            state[f"{n}.weight"], state[f"{n}.bias"] = state[f"{n}.weight"][:, keep], state[f"{n}.bias"][:, keep]
        for p in producers:
            state[f"{p}.weight"], state[f"{p}.bias"] = state[f"{p}.weight"][keep], state[f"{p}.bias"][keep]
        for c in consumers:
            state[f"{c}.weight"] = state[f"{c}.weight"][:, keep]
    return state
