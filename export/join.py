"""A new style joined to the multi-style network it was fine-tuned from, so that one file holds both.

A style fine-tuned with --finetune-new-styles shares every weight but its instance-norm scales and shifts
with the network it started from. Its file can therefore carry that network's styles too, at no cost in
size or speed (a style is a row of scales and shifts per norm), and the new style then blends with every
one of them, on the server and on the device. The base network's rows come first, in their order, with
their card entries; the new style comes last.
"""

import torch
from stylecore.modelfiles import card_path, read_card

from training.checkpoint import read_weights
from training.model import TransformerNet, is_style_row

from .card import ExportError


def join(net: TransformerNet, style_id: str, base) -> tuple[TransformerNet, list]:
    """(the joined network, the base's styles as card entries in row order); `net` is the new one-style network."""
    if net.num_styles != 1:
        raise ExportError(f"--join takes a one-style checkpoint (a fine-tuned new style), not {net.num_styles} "
                          "styles")
    try:
        base_state, base_ids = read_weights(base)
    except (ValueError, FileNotFoundError) as exc:
        raise ExportError(f"--join {base}: {exc}") from exc
    if style_id in base_ids:
        raise ExportError(f"--join {base}: it already has a style {style_id!r}")
    own = net.state_dict()
    if set(own) != set(base_state):
        raise ExportError(f"--join {base}: not the same network (width or layers differ)")
    joined_state = {}
    for key, value in own.items():
        if is_style_row(key, value):
            joined_state[key] = torch.cat([base_state[key].to(value.dtype), value])
        elif not torch.equal(value, base_state[key].to(value.dtype)):
            raise ExportError(f"--join {base}: the style's shared weights differ from it ({key}): it was not "
                              "fine-tuned from that network with only its own scales and shifts trained")
        else:
            joined_state[key] = value
    joined = TransformerNet(len(base_ids) + 1, net.width)
    joined.load_state_dict(joined_state)
    return joined.eval(), base_entries(base, base_ids)


def base_entries(base, base_ids: list) -> list:
    """The base network's styles as its card lists them (names, artists, thumbnails), marked as joined."""
    listed = {s.get("id"): s for s in read_card(card_path(base)).get("styles", []) if isinstance(s, dict)}
    entries = []
    for index, base_id in enumerate(base_ids):
        entry = {k: v for k, v in listed.get(base_id, {}).items() if k not in ("index", "val_quality")}
        entry.setdefault("name", base_id.replace("_", " ").title())
        entries.append({**entry, "id": base_id, "index": index, "joined_from": card_path(base).stem})
    return entries
