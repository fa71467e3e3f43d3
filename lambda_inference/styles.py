"""Which styles a request may use: the bundled ones, and the caller's own finished styles by their ids.

`Styles` is the one lookup the handler asks (`get`, `blend`): a user style's id goes to that style's own model
file, any other id to the bundled registry. A user style's id is unguessable (apicommon.userstyles: where a
job's files live), so holding it is what lets a client stylize with it. This is serving code, so it lives
beside the inference handler; the shared HTTP layer knows no styles.
"""

import os
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

from apicommon.userstyles import job_id_of, model_prefix, style_id_of
from stylecore import BlendAcrossNetworks, StyleRegistry, Stylizer, UnknownStyle


class UserStyles:
    """The finished user styles `POST /stylize` may name: each is its own small registry (its model prefix),
    made on first use and kept (the last MAX_KEPT), so a warm function loads a user's network once. Each use
    checks that the style is still there (one S3 HEAD), so a deleted or expired style stops working at once.

    On AWS each registry downloads its model file into cache_dir/<job id>. A style no longer kept loses its
    folder, and the folders stay within MAX_CACHE_BYTES (the least recently used go first): a warm function
    serving many users' styles otherwise filled its 512 MB of /tmp in about 400 styles, and then failed."""

    MAX_KEPT = 16
    MAX_CACHE_BYTES = 128 * 1024 * 1024  # of /tmp's 512 MB; the bundled models' own cache needs the rest

    def __init__(self, make_registry, still_there, cache_dir=None):
        self._make_registry = make_registry  # job id -> a StyleRegistry of its model prefix, or None
        self._still_there = still_there  # job id -> whether its style's card is still there
        self._cache_dir = Path(cache_dir) if cache_dir else None  # None: the files are not ours to remove
        self._kept = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "UserStyles | None":
        """USER_STYLES_DIR (the local stack's jobs folder) or USER_STYLES_BUCKET (the styles bucket on AWS);
        None when neither is set (training is off)."""
        if os.environ.get("USER_STYLES_DIR"):
            root = Path(os.environ["USER_STYLES_DIR"])
            card = lambda job_id: root / model_prefix(job_id) / f"{style_id_of(job_id)}.json"  # noqa: E731
            return cls(lambda job_id: StyleRegistry.from_dir(card(job_id).parent) if card(job_id).is_file() else None,
                       lambda job_id: card(job_id).is_file())
        bucket = os.environ.get("USER_STYLES_BUCKET")
        if bucket:
            import boto3

            s3 = boto3.client("s3")
            cache = os.environ.get("USER_STYLES_CACHE_DIR", "/tmp/user-styles")

            def still_there(job_id):
                try:
                    s3.head_object(Bucket=bucket, Key=f"{model_prefix(job_id)}{style_id_of(job_id)}.json")
                    return True
                except s3.exceptions.ClientError:
                    return False

            return cls(lambda job_id: StyleRegistry.from_s3(bucket, model_prefix(job_id), f"{cache}/{job_id}", s3)
                       if still_there(job_id) else None, still_there, cache_dir=cache)
        return None

    def registry(self, style_id):
        """The registry serving this user style, or None (not a user style id, or no finished style there)."""
        job_id = job_id_of(style_id)
        if job_id is None:
            return None
        with self._lock:
            kept = self._kept.get(job_id)
        if kept is not None:
            if self._still_there(job_id):
                with self._lock:
                    self._kept[job_id] = kept
                    self._kept.move_to_end(job_id)
                return kept
            self.forget(style_id)
            return None
        registry = self._make_registry(job_id)
        if registry is None or style_id not in {s["id"] for s in registry.list_styles()}:
            return None  # not kept: the job may finish later
        with self._lock:
            self._kept[job_id] = registry
            while len(self._kept) > self.MAX_KEPT:
                self._kept.popitem(last=False)
            self._trim_cache(keep=job_id)
        return registry

    def _trim_cache(self, keep: str) -> None:
        """Remove the cache folders of styles no longer kept, then the least recently used ones until the rest fit
        in MAX_CACHE_BYTES (never `keep`'s: the style about to be used). Under the lock."""
        if self._cache_dir is None or not self._cache_dir.is_dir():
            return
        sizes = {}
        for folder in self._cache_dir.iterdir():
            if folder.name not in self._kept:
                remove(folder)
            else:
                sizes[folder.name] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        total = sum(sizes.values())
        for job_id in list(self._kept):  # oldest first
            if total <= self.MAX_CACHE_BYTES:
                break
            if job_id != keep and job_id in sizes:
                del self._kept[job_id]
                remove(self._cache_dir / job_id)
                total -= sizes[job_id]

    def blend_registry(self, style_ids: list):
        """The registry a blend naming a user style runs on: that style's own file, which holds the bundled styles
        it was trained from (export --join); None when the blend names no user style."""
        own = [s for s in style_ids if job_id_of(s)]
        if not own:
            return None
        if len(own) > 1:
            raise BlendAcrossNetworks("two of your own styles cannot be blended: each is a network of its own")
        registry = self.registry(own[0])
        if registry is None:
            raise UnknownStyle(f"unknown style {own[0]!r}: not a finished style of yours")
        held = [entry["id"] for entry in registry.list_styles()]
        others = [s for s in style_ids if s not in held]
        if others:
            raise BlendAcrossNetworks(f"{own[0]} blends only with the styles its file holds ("
                                      f"{', '.join(s for s in held if s != own[0]) or 'none'}), not with "
                                      f"{', '.join(map(str, others))}")
        return registry

    def forget(self, style_id) -> None:
        job_id = job_id_of(style_id)
        with self._lock:
            self._kept.pop(job_id, None)
            if self._cache_dir is not None and job_id:
                remove(self._cache_dir / job_id)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class Styles:
    """The one lookup for a request's style: the caller's own style file first (when training is on and the id
    is a user style's), else the bundled registry. `bundled` is also what GET /styles lists: users' styles are
    never listed to anyone but their owner (the jobs API)."""

    def __init__(self, bundled: StyleRegistry, own: UserStyles | None = None):
        self.bundled = bundled
        self.own = own  # None: training is off

    def get(self, style_id) -> Stylizer:
        registry = self.own.registry(style_id) if self.own else None
        return (registry or self.bundled).get(style_id)

    def blend(self, pairs: list) -> Stylizer:
        """[(style id, weight), ...] as one stylizer; a user style blends only with the styles its file holds."""
        registry = self.own.blend_registry([style for style, _ in pairs]) if self.own else None
        return (registry or self.bundled).blend(pairs)
