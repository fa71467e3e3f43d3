"""A narrower network from a trained wider one: keep each layer's most important channels, then fine-tune.

The speed goal of the served network depends on its width (benchmarks/network_width.py), and a network trained
at one width holds most of what a narrower one needs. As in network slimming (Liu et al. 2017), a channel's
importance is the size of the instance-norm scales that follow it, |gamma|, averaged over the styles: a channel
whose every style scales it to nearly zero contributes nearly nothing downstream. Each set of channels that one
norm (or, for the residual trunk, the skip connections) ties together keeps its most important ones, in order;
its producing convolutions lose those output channels, its consuming convolutions those input channels.
"""

import torch

from .model import PLAN, architecture


def channel_sets() -> list:
    """(norms, producers, consumers, width multiple) of each set of channels that must be narrowed together, from
    the network's layer plan: each layer's output, read by the next layer; the residual trunk (the output of the
    layer before the blocks, which every block adds to, and the layer after them reads) is one set, and each
    block's inner channels another."""
    sets, inner = [], []
    current = None  # the set the layer being read consumes: [norms, producers, consumers, multiple]
    for layer in PLAN:
        if current is not None:
            current[2].append(layer.convs[0])
        if layer.kind == "residual":
            inner.append(([layer.norms[0]], [layer.convs[0]], [layer.convs[1]], layer.channels_out))
            current[0].append(layer.norms[1])
            current[1].append(layer.convs[1])
            continue
        if current is not None:
            sets.append(tuple(current))
            if inner:
                sets, inner = sets + inner, []
        current = [list(layer.norms), [layer.convs[0]], [], layer.channels_out] if layer.norms else None
    return sets


def narrow_state(state: dict, width: int) -> dict:
    """The state dict of a `width` network made of the wider `state`'s most important channels."""
    source = architecture(state)
    if width > source["width"]:
        raise ValueError(f"a network of width {source['width']} cannot be widened to {width}")
    if source["detail"] and width != source["width"]:
        raise ValueError("a network with the detail path cannot be narrowed (its channels are not in the plan)")
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
