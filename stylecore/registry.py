"""The styles on offer: a models folder, or an S3 prefix, of model cards with their ONNX files.

A network is its model card `<id>.json` (written by `python -m export`) with at least one of its model
files beside it: `<id>.onnx` (the main model) or `<id>.<variant>.onnx` (fp16, int8). get(style) serves
the preferred variant where it is there, else the main model, else the variant that is there, so a
folder or layer need only hold the files it serves (stylecore.modelfiles has the naming rules).

Moving pictures (a video's frames) ask for get(style, moving=True): a network's steady variant
(`<id>.steady.onnx`, a second network with the same styles, trained to hold its strokes still when the scene
moves) where it has one, else the served file.

A single-style network is one style with the network's id. A multi-style network's card lists its
styles (`styles`: id, index, name, ...): each is a style of its own, served by the one session of
its network, and any of them can be blended (blend()).
"""

import logging
import math
import os
import threading
from pathlib import Path

from .errors import BlendAcrossNetworks, InvalidBlend, UnknownStyle
from .modelfiles import (
    MAIN_VARIANT,
    STEADY_VARIANT,
    card_filename,
    is_style_id,
    is_variant,
    model_filename,
    parse_card,
    parse_card_filename,
    parse_model_filename,
    read_card,
)
from .stylizer import Stylizer

log = logging.getLogger(__name__)

LISTED_FIELDS = ("id", "name", "artist", "year", "thumbnail")
NOT_LISTED = ("training", "parity", "variants_quality", "variants_training", "styles")
BLEND_STYLES = (2, 4)  # a blend mixes at least 2 and at most 4 styles of one network


def style_entry(style_id: str, card: dict, network: str, blendable: bool, own: dict | None = None) -> dict:
    """What list_styles shows for one style: its network card's fields, then the style's own (a multi-style
    card's entry for it), with the listed ones always present."""
    entry = {k: v for k, v in card.items() if k not in NOT_LISTED}
    entry.update({k: v for k, v in (own or {}).items() if k != "index"})
    entry["id"] = style_id
    entry.setdefault("name", style_id.replace("_", " ").replace("-", " ").title())
    for key in LISTED_FIELDS:
        entry.setdefault(key, None)
    entry["network"], entry["blendable"] = network, blendable
    return entry


def styles_of(network_id: str, card: dict) -> list:
    """(style id, index, the style's own card entry) for each style of a network: index None for one style."""
    listed = card.get("styles")
    if not isinstance(listed, list) or not listed:
        return [(network_id, None, {})]
    return [(s["id"], s["index"], s) for s in listed if isinstance(s, dict) and is_style_id(s.get("id"))
            and isinstance(s.get("index"), int)]


def model_files(names) -> dict:
    """File names -> {style_id: the variants there (None: the main model)} for the styles that have a card."""
    cards = {style_id for style_id in map(parse_card_filename, names) if style_id}
    files = {}
    for parsed in filter(None, map(parse_model_filename, names)):
        if parsed[0] in cards:
            files.setdefault(parsed[0], set()).add(parsed[1])
    return files


class StyleRegistry:
    """Style ids -> their networks' model cards; get() loads each network's session once and keeps it."""

    def __init__(self, cards: dict, files: dict, fetch_model, source: str = "", preferred_variant: str | None = None):
        self._cards = dict(sorted(cards.items()))  # network id -> its model card
        self._files = files  # network id -> the variants whose files are there (None: the main model)
        self._fetch_model = fetch_model  # (network id, variant) -> local path of the ONNX file
        self._styles = {}  # style id -> (network id, index in the network or None, the style's listing)
        for network_id, card in self._cards.items():
            styles = styles_of(network_id, card)
            for style_id, index, own in styles:
                if style_id in self._styles:
                    log.warning("style %r is in %s and %s: serving the first", style_id,
                                self._styles[style_id][0], network_id)
                    continue
                self._styles[style_id] = (network_id, index,
                                          style_entry(style_id, card, network_id, index is not None, own))
        self._styles = dict(sorted(self._styles.items()))
        self._stylizers = {}
        self._lock = threading.Lock()
        self.source = source
        # get(id) serves this variant where a style has it (e.g. "int8": faster on CPU at the same losses),
        # else the style's main model.
        self.preferred_variant = preferred_variant

    # ---------------------------------------------------------------------------- constructors

    @classmethod
    def from_dir(cls, path) -> "StyleRegistry":
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(f"models folder not found: {folder}")
        files = model_files(sorted(p.name for p in folder.iterdir() if p.is_file()))
        cards = {style_id: read_card(folder / card_filename(style_id)) for style_id in files}

        def fetch(style_id, variant):
            return folder / model_filename(style_id, variant)

        return cls(cards, files, fetch, str(folder))

    @classmethod
    def from_s3(cls, bucket: str, prefix: str = "", cache_dir="/tmp/models", s3_client=None) -> "StyleRegistry":
        """Cards are read at once (they are small); each ONNX file is downloaded on first use, then cached."""
        if s3_client is None:
            import boto3  # only here: the folder registry must not need boto3

            s3_client = boto3.client("s3")
        prefix = prefix.strip("/")
        prefix = prefix + "/" if prefix else ""
        keys = {}
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                keys[item["Key"][len(prefix):]] = item
        files = model_files(sorted(keys))
        cards = {}
        for style_id in files:
            card_key = prefix + card_filename(style_id)
            body = s3_client.get_object(Bucket=bucket, Key=card_key)["Body"].read()
            cards[style_id] = parse_card(body, f"s3://{bucket}/{card_key}")
        cache = Path(cache_dir)

        def fetch(style_id, variant):
            name = model_filename(style_id, variant)
            item = keys.get(name)
            if item is None:
                return cache / name  # missing: get() reports it
            local = cache / name
            if not local.is_file() or local.stat().st_size != item["Size"]:
                cache.mkdir(parents=True, exist_ok=True)
                partial = local.with_name(f"{name}.{os.getpid()}.part")
                s3_client.download_file(bucket, prefix + name, str(partial))
                os.replace(partial, local)  # never leave a half-written model where the next cold start looks
                log.info("downloaded s3://%s/%s%s to %s", bucket, prefix, name, local)
            return local

        return cls(cards, files, fetch, f"s3://{bucket}/{prefix}")

    @classmethod
    def from_env(cls) -> "StyleRegistry":
        """MODELS_DIR (a folder), or MODELS_BUCKET with MODELS_PREFIX (and MODELS_CACHE_DIR, default /tmp/models);
        MODELS_VARIANT (e.g. int8) picks the variant served where a style has one."""
        if os.environ.get("MODELS_DIR"):
            registry = cls.from_dir(os.environ["MODELS_DIR"])
        elif os.environ.get("MODELS_BUCKET"):
            registry = cls.from_s3(os.environ["MODELS_BUCKET"], os.environ.get("MODELS_PREFIX", ""),
                                   os.environ.get("MODELS_CACHE_DIR", "/tmp/models"))
        else:
            raise RuntimeError("no models configured: set MODELS_DIR, or MODELS_BUCKET (and MODELS_PREFIX)")
        variant = os.environ.get("MODELS_VARIANT", "").strip()
        if variant and not is_variant(variant):
            raise RuntimeError(f"MODELS_VARIANT={variant!r}: use a variant name such as int8 or fp16")
        registry.preferred_variant = variant or None
        return registry

    # ----------------------------------------------------------------------------------- access

    def list_styles(self) -> list:
        return [entry for _, _, entry in self._styles.values()]

    def network_of(self, style_id: str) -> str:
        self._check(style_id)
        return self._styles[style_id][0]

    def served_variant(self, network_id: str) -> str | None:
        """The variant a network is served as: the preferred one where it is there, else the main model (None),
        else the first variant there is."""
        present = self._files[network_id]
        if self.preferred_variant in present:
            return self.preferred_variant
        return None if None in present else min(present)

    def moving_variant(self, network_id: str) -> str | None:
        """The variant for moving pictures (a video's frames): the steady network where there is one, else the
        served variant."""
        return STEADY_VARIANT if STEADY_VARIANT in self._files[network_id] else self.served_variant(network_id)

    def get(self, style_id: str, variant: str | None = None, moving: bool = False) -> Stylizer:
        """The style's stylizer (the served variant, the one for moving pictures, or the one asked for); its
        network's session is made once, then kept."""
        self._check(style_id)
        network_id, index, _ = self._styles[style_id]
        stylizer = self._network(network_id, self._moving(network_id, variant, moving), style_id)
        return stylizer if index is None else stylizer.for_style(style_id)

    def _moving(self, network_id: str, variant: str | None, moving: bool) -> str | None:
        return self.moving_variant(network_id) if moving and variant is None else variant

    def blend(self, parts: list, variant: str | None = None, moving: bool = False) -> Stylizer:
        """A stylizer for a mix of 2 to 4 styles of one network: [(style_id, weight), ...], weights >= 0,
        normalised to sum to 1. Their instance-norm scales and shifts are mixed (a true interpolation
        between the paintings, not a cross-fade of outputs)."""
        low, high = BLEND_STYLES
        if not low <= len(parts) <= high:
            raise InvalidBlend(f"a blend mixes {low} to {high} styles, not {len(parts)}")
        ids = [style_id for style_id, _ in parts]
        if len(set(ids)) != len(ids):
            raise InvalidBlend("a blend names each style once")
        for style_id, weight in parts:
            self._check(style_id)
            if not isinstance(weight, int | float) or isinstance(weight, bool) or not math.isfinite(weight) \
                    or weight < 0:
                raise InvalidBlend(f"the weight of {style_id!r} must be a number of at least 0")
        total = float(sum(weight for _, weight in parts))
        if total <= 0:
            raise InvalidBlend("a blend needs at least one weight above 0")
        networks = {self._styles[style_id][0] for style_id in ids}
        if len(networks) > 1 or self._styles[ids[0]][1] is None:
            raise BlendAcrossNetworks(
                "only styles of one multi-style network can be blended: " + ", ".join(
                    f"{style_id} is in {self._styles[style_id][0]}" for style_id in ids))
        network_id = networks.pop()
        network = self._network(network_id, self._moving(network_id, variant, moving), ids[0])
        weights = [0.0] * len(network.style_ids)
        for style_id, weight in parts:
            weights[network.style_ids.index(style_id)] = weight / total
        blended = network.with_style_weights(weights)
        blended.style_id = "+".join(ids)
        return blended

    def _network(self, network_id: str, variant: str | None, style_id: str) -> Stylizer:
        if variant is not None and not is_variant(variant):
            raise UnknownStyle(f"unknown model variant {variant!r}")
        chosen = self.served_variant(network_id) if variant is None else variant
        key = (network_id, None if chosen == MAIN_VARIANT else chosen)  # one session per file, however asked for
        with self._lock:  # one session per network even when threads ask at once
            if key not in self._stylizers:
                # Only the file served is fetched: from S3 that downloads, and a cold start should not pull a
                # model it does not run.
                path = None
                if key[1] in self._files[network_id]:
                    path = Path(self._fetch_model(network_id, chosen))
                if path is None or not path.is_file():
                    what = f"style {style_id!r} has no {variant} variant" if variant else f"style {style_id!r}"
                    raise UnknownStyle(f"{what} is not available")
                self._stylizers[key] = Stylizer.from_file(path, network_id, self._cards[network_id])
            return self._stylizers[key]

    def warm(self):
        """Load every network's served session now (a Lambda's init, so that no request pays for it)."""
        for network_id in self._cards:
            self._network(network_id, None, network_id)

    def _check(self, style_id):
        if not isinstance(style_id, str) or style_id not in self._styles:
            known = ", ".join(self._styles) or "none"
            shown = style_id if isinstance(style_id, str) and len(style_id) <= 64 else "that style"
            raise UnknownStyle(f"unknown style {shown!r}; available styles: {known}")
