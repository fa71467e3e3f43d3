"""stylize IMAGE... --style NAME --out DIR: stylize photos on this computer with the same core as the API.

Each file is handled on its own: a corrupt or unreadable one is reported and skipped, the others go
on, and the exit status is 1 when any file failed (2 for bad options, an unknown style or no models).
Without --models it uses MODELS_DIR, else the bundled models (stylecore.modelsdir), from any folder.
"""

import argparse
import sys
import time
from pathlib import Path

from .errors import StyleCoreError
from .faces import load_cascade
from .imaging import FORMAT_ALIASES, OUTPUT_FORMATS
from .modelsdir import BUNDLED_MODELS_DIR, MODELS_ENV, default_models_dir
from .options import BRUSH_RANGE, BRUSH_WORKING_SIDE, QUALITY_RANGE, StylizeOptions
from .pipeline import stylize_bytes
from .registry import StyleRegistry

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".mpo"}


def build_parser() -> argparse.ArgumentParser:
    defaults = StylizeOptions()
    p = argparse.ArgumentParser(prog="stylize", description="Stylize photos with a trained style (ONNX model).",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("images", nargs="*", metavar="IMAGE", help="image files, or folders of them")
    p.add_argument("--style", help="style id (see --list)")
    p.add_argument("--blend", type=parse_blend, metavar="ID=W,ID=W",
                   help="mix 2-4 styles of one multi-style network instead of --style, e.g. great_wave=0.6,udnie=0.4")
    p.add_argument("--out", default="stylized", help="folder for the results (created if needed)")
    p.add_argument("--models", default=argparse.SUPPRESS, help="models folder: STYLE.json cards with their "
                   f"STYLE.onnx (or STYLE.VARIANT.onnx) files (default: ${MODELS_ENV} if set, else the bundled "
                   f"models, {BUNDLED_MODELS_DIR})")
    p.add_argument("--max-size", type=int, default=defaults.max_size, help="longest side of the result; "
                   "0 keeps the full size (large images are stylized in tiles)")
    p.add_argument("--strength", type=float, default=defaults.strength, help="0 = the photo, 1 = fully stylized")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's colours, take only the "
                   "style's light and texture")
    p.add_argument("--format", default=defaults.output_format, choices=[*OUTPUT_FORMATS, *FORMAT_ALIASES],
                   help="output format")
    p.add_argument("--quality", type=int, default=defaults.quality,
                   help="JPEG / WebP quality, {}-{}".format(*QUALITY_RANGE))
    p.add_argument("--brush", type=float, default=defaults.brush, help="size of the strokes relative to the "
                   f"picture, {BRUSH_RANGE[0]:g}-{BRUSH_RANGE[1]:g}: a photo is painted with its long side at "
                   f"{BRUSH_WORKING_SIDE}/BRUSH px, then brought to full size sharp; {BRUSH_RANGE[0]:g} paints at "
                   "full size")
    p.add_argument("--mask", metavar="FILE", help="grayscale image: the style where it is white, the photo where it "
                   "is black (stretched to each photo)")
    p.add_argument("--protect-faces", action="store_true", help="lower the strength inside detected faces "
                   "(needs opencv-python-headless 4.x: pip install 'fast-neural-style[faces]')")
    p.add_argument("--variant", help="a model variant to use, e.g. int8 (STYLE.int8.onnx)")
    p.add_argument("--list", action="store_true", help="list the styles in --models and exit")
    return p


def parse_blend(text: str) -> list:
    """'great_wave=0.6,udnie=0.4' -> [("great_wave", 0.6), ("udnie", 0.4)]."""
    parts = []
    for item in text.split(","):
        style, sep, weight = item.partition("=")
        try:
            parts.append((style.strip(), float(weight)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: write each style as ID=WEIGHT, e.g. udnie=0.4") from None
        if not sep:
            raise argparse.ArgumentTypeError(f"{item!r}: write each style as ID=WEIGHT, e.g. udnie=0.4")
    return parts


def expand(paths: list) -> list:
    """Files as given, folders as their image files (sorted, not recursive)."""
    files = []
    for entry in map(Path, paths):
        if entry.is_dir():
            files.extend(sorted(p for p in entry.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
        else:
            files.append(entry)
    return files


def progress(items: list, enabled: bool):
    """tqdm when it is installed, else a one-line counter on stderr; nothing for a single file."""
    if not enabled or len(items) < 2:
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(items, unit="image", file=sys.stderr, dynamic_ncols=True)
        return
    started = time.perf_counter()
    for done, item in enumerate(items):
        print(f"\r[{done}/{len(items)}] {time.perf_counter() - started:.0f}s", end="", file=sys.stderr, flush=True)
        yield item
    print(f"\r[{len(items)}/{len(items)}] {time.perf_counter() - started:.0f}s", file=sys.stderr)


def output_path(out_dir: Path, source: Path, style: str, fmt: str, taken: set) -> Path:
    """photo.jpg -> OUT/photo.great_wave.jpg; two inputs with one name do not overwrite each other."""
    suffix = {"jpeg": ".jpg"}.get(fmt, f".{fmt}")
    path = out_dir / f"{source.stem}.{style}{suffix}"
    n = 2
    while path in taken:
        path = out_dir / f"{source.stem}.{style}-{n}{suffix}"
        n += 1
    taken.add(path)
    return path


def models_folder(given) -> tuple[Path, str]:
    """The folder to load (and where it came from): --models, else MODELS_DIR, else the bundled models."""
    if given:
        return Path(given), "--models"
    return default_models_dir()


def load_registry(given):
    """The registry, or None after saying which folder was tried and how to point at another."""
    folder, origin = models_folder(given)
    hint = {"--models": "give --models a models folder",
            f"from {MODELS_ENV}": f"set {MODELS_ENV} to a models folder, or pass --models DIR"}.get(
        origin, f"pass --models DIR or set {MODELS_ENV}")
    try:
        registry = StyleRegistry.from_dir(folder)
    except FileNotFoundError:
        print(f"error: no models folder at {folder.absolute()} ({origin}); {hint}", file=sys.stderr)
        return None
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    if not registry.list_styles():
        print(f"error: no models in {folder.absolute()} ({origin}): a models folder holds STYLE.json cards with "
              f"their STYLE.onnx files; {hint}", file=sys.stderr)
        return None
    return registry


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    args.models = getattr(args, "models", None)
    registry = load_registry(args.models)
    if registry is None:
        return 2
    if args.list:
        for style in registry.list_styles():
            print(f"{style['id']:24} {style['name']} ({style['artist'] or 'unknown artist'}, {style['year'] or '?'})")
        return 0
    if bool(args.style) == bool(args.blend):
        print(f"error: give --style or --blend (one of the two); styles in {models_folder(args.models)[0]}: "
              f"{', '.join(s['id'] for s in registry.list_styles())}", file=sys.stderr)
        return 2
    try:
        options = StylizeOptions(args.strength, args.preserve_color, args.max_size or None, args.format,
                                 args.quality, brush=args.brush, protect_faces=args.protect_faces).checked()
        stylizer = registry.blend(args.blend, args.variant) if args.blend else registry.get(args.style, args.variant)
        mask = Path(args.mask).read_bytes() if args.mask else None
        if options.protect_faces:
            load_cascade()  # no detector installed: say so once, not for every photo
    except (StyleCoreError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = expand(args.images)
    if not files:
        print("error: no image files given (stylize IMAGE... --style NAME)", file=sys.stderr)
        return 2
    failures, taken = [], set()
    for path in progress(files, enabled=True):
        try:
            data = path.read_bytes()
            result = stylize_bytes(data, stylizer, options, mask=mask)
        except (StyleCoreError, OSError) as exc:
            failures.append((path, exc))
            print(f"\nfailed: {path}: {exc}", file=sys.stderr)
            continue
        target = output_path(out_dir, path, stylizer.style_id, result.format, taken)
        target.write_bytes(result.image)
    ok = len(files) - len(failures)
    print(f"stylized {ok} of {len(files)} image(s) into {out_dir}" + (f"; {len(failures)} failed" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
