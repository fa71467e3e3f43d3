"""The styles on offer: a models folder, or an S3 prefix, of `<style_id>.onnx` files with their model cards.

A model card is `<style_id>.json` beside the ONNX file (written by `python -m export`). Files named
`<style_id>.<variant>.onnx` (fp16, int8) are variants of the same style, served with get(id, variant).
"""

import json
import logging
import os
import re
import threading
from pathlib import Path

from .errors import UnknownStyle
from .stylizer import Stylizer

log = logging.getLogger(__name__)

STYLE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
VARIANT = re.compile(r"^[a-z0-9_]{1,16}$")
LISTED_FIELDS = ("id", "name", "artist", "year", "thumbnail")


def style_entry(style_id: str, card: dict) -> dict:
    """What list_styles shows for one style: the card's fields, with the listed ones always present."""
    entry = {k: v for k, v in card.items() if k not in ("training", "parity", "variants_quality")}
    entry["id"] = style_id
    entry.setdefault("name", style_id.replace("_", " ").replace("-", " ").title())
    for key in LISTED_FIELDS:
        entry.setdefault(key, None)
    return entry


class StyleRegistry:
    """Style ids -> model cards; get() loads each style's session once and keeps it."""

    def __init__(self, cards: dict, fetch_model, source: str = "", preferred_variant: str | None = None):
        self._cards = dict(sorted(cards.items()))
        self._fetch_model = fetch_model  # (style_id, variant) -> local path of the ONNX file
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
        cards = {}
        for model in sorted(folder.glob("*.onnx")):
            style_id = model.name[:-len(".onnx")]
            if not STYLE_ID.match(style_id):
                continue  # a variant (`id.int8.onnx`) or a stray file
            cards[style_id] = read_card(model.with_suffix(".json"))

        def fetch(style_id, variant):
            return folder / model_filename(style_id, variant)

        return cls(cards, fetch, str(folder))

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
        cards = {}
        for name in sorted(keys):
            style_id = name[:-len(".onnx")] if name.endswith(".onnx") else None
            if not style_id or not STYLE_ID.match(style_id):
                continue
            card_key = f"{style_id}.json"
            card = {}
            if card_key in keys:
                body = s3_client.get_object(Bucket=bucket, Key=prefix + card_key)["Body"].read()
                card = parse_card(body, f"s3://{bucket}/{prefix}{card_key}")
            cards[style_id] = card
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

        return cls(cards, fetch, f"s3://{bucket}/{prefix}")

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
        if variant and not VARIANT.match(variant):
            raise RuntimeError(f"MODELS_VARIANT={variant!r}: use a variant name such as int8 or fp16")
        registry.preferred_variant = variant or None
        return registry

    # ----------------------------------------------------------------------------------- access

    def list_styles(self) -> list:
        return [style_entry(style_id, card) for style_id, card in self._cards.items()]

    def __contains__(self, style_id) -> bool:
        return style_id in self._cards

    def card(self, style_id: str) -> dict:
        self._check(style_id)
        return self._cards[style_id]

    def get(self, style_id: str, variant: str | None = None) -> Stylizer:
        """The style's stylizer; its session is created on first use and reused after."""
        self._check(style_id)
        if variant is not None and not VARIANT.match(str(variant)):
            raise UnknownStyle(f"unknown model variant {variant!r}")
        key = (style_id, variant)
        with self._lock:  # one session per style even when threads ask at once
            if key not in self._stylizers:
                # The preferred variant first, and the main model only where there is none: fetching from S3
                # downloads, and a cold start should not pull both.
                path = None
                if variant is None and self.preferred_variant:
                    path = Path(self._fetch_model(style_id, self.preferred_variant))
                if path is None or not path.is_file():
                    path = Path(self._fetch_model(style_id, variant))
                if not path.is_file():
                    what = f"style {style_id!r} has no {variant} variant" if variant else f"style {style_id!r}"
                    raise UnknownStyle(f"{what} is not available")
                self._stylizers[key] = Stylizer.from_file(path, style_id, self._cards[style_id])
            return self._stylizers[key]

    def _check(self, style_id):
        if not isinstance(style_id, str) or style_id not in self._cards:
            known = ", ".join(self._cards) or "none"
            shown = style_id if isinstance(style_id, str) and len(style_id) <= 64 else "that style"
            raise UnknownStyle(f"unknown style {shown!r}; available styles: {known}")


def model_filename(style_id: str, variant: str | None) -> str:
    return f"{style_id}.{variant}.onnx" if variant and variant != "fp32" else f"{style_id}.onnx"


def parse_card(text, where: str) -> dict:
    try:
        card = json.loads(text)
    except ValueError as exc:
        raise RuntimeError(f"{where}: the model card is not valid JSON ({exc})") from exc
    if not isinstance(card, dict):
        raise RuntimeError(f"{where}: the model card must be a JSON object")
    return card


def read_card(path: Path) -> dict:
    """A style's model card; a model without one is still served, under its file name."""
    if not path.is_file():
        return {}
    return parse_card(path.read_text(encoding="utf-8"), str(path))
