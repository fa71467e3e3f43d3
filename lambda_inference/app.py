"""The inference Lambda: GET /styles and POST /stylize, a thin handler over the inference core.

The registry and every style's onnxruntime session are made at init, so the cold start pays for them
once and warm requests only run the network. Models come from MODELS_DIR (the bundled models layer,
/opt/models) or from MODELS_BUCKET + MODELS_PREFIX (cached in /tmp). HTTP plumbing and gallery reads
live in the common layer (apicommon), shared with the gallery Lambda.
"""

import base64
import binascii
import time

import stylecore
from apicommon.gallery import Gallery
from apicommon.http import MAX_RESPONSE_BYTES, ApiError, Request, Response, check_fields, handle, log

_init_started = time.perf_counter()
REGISTRY = stylecore.StyleRegistry.from_env()
for _style in REGISTRY.list_styles():
    REGISTRY.get(_style["id"])
GALLERY = Gallery.from_env()
log("init", models=REGISTRY.source, styles=len(REGISTRY.list_styles()),
    init_ms=round((time.perf_counter() - _init_started) * 1000, 1))

FORMATS = ("jpeg", "png", "webp")
MAX_SIZE_RANGE = (16, 2048)
# Results are also held to this many pixels (1920x1080 fits): larger ones would be stylized in tiles, which
# measured several times slower (README, "Sizing") and could not finish within the HTTP API's 30 s.
MAX_PIXELS = 2_100_000
# A result whose base64 would not fit in a response is re-encoded at these qualities, in turn.
SHRINK_QUALITIES = (75, 60, 45, 30)
_RESPONSE_OVERHEAD = 2_000  # the JSON around the image, headers included


def list_styles(request: Request) -> dict:
    return {"styles": REGISTRY.list_styles()}


def stylize(request: Request) -> Response:
    body = request.json()
    check_fields(body, required={"style"},
                 optional={"image", "gallery_key", "strength", "preserve_color", "max_size", "format", "quality"})
    options = stylize_options(body)
    style = _typed(body, "style", str, None)
    try:
        stylizer = REGISTRY.get(style)  # an unknown style is refused before the photo is read
        started = time.perf_counter()
        photo, source = read_photo(body)
        input_ms = (time.perf_counter() - started) * 1000
        result = stylecore.stylize_bytes(photo, stylizer, **options)
    except stylecore.StyleCoreError as error:
        raise ApiError(error.status, error.code, str(error)) from error
    image, quality = fit_response(result.image, result.format, options["quality"])
    timings = {"input_ms": round(input_ms, 1), **{k: round(result.timings[k], 1)
                                                   for k in ("decode_ms", "inference_ms", "encode_ms")}}
    payload = {
        "image": base64.b64encode(image).decode("ascii"),
        "format": result.format, "mime_type": result.mime_type, "width": result.width, "height": result.height,
        "style": style, "strength": options["strength"], "preserve_color": options["preserve_color"],
        "quality": quality if result.format != "png" else None,
        "timings": timings,  # the same dict as Response.timings: `handle` adds total_ms to both
    }
    return Response(payload, timings=timings, log={
        "style": style, "source": source, "input_bytes": len(photo), "output_bytes": len(image),
        "width": result.width, "height": result.height, "format": result.format})


def stylize_options(body: dict) -> dict:
    """The keyword arguments of stylecore.stylize_bytes, checked against the contract (openapi.yaml)."""
    strength = _typed(body, "strength", (int, float), 1.0)
    max_size = _typed(body, "max_size", int, 1024)
    output_format = _typed(body, "format", str, "jpeg")
    quality = _typed(body, "quality", int, 90)
    if not 0 <= strength <= 1:
        raise ApiError(400, "invalid_parameter", f"strength goes from 0 (the photo) to 1 (the style), not {strength}.")
    if not MAX_SIZE_RANGE[0] <= max_size <= MAX_SIZE_RANGE[1]:
        raise ApiError(400, "invalid_parameter", f"max_size must be from {MAX_SIZE_RANGE[0]} to {MAX_SIZE_RANGE[1]} "
                       f"pixels, not {max_size}.")
    if output_format not in FORMATS:
        raise ApiError(400, "invalid_parameter", f"format must be one of {', '.join(FORMATS)}, not {output_format!r}.")
    if not 1 <= quality <= 100:
        raise ApiError(400, "invalid_parameter", f"quality must be from 1 to 100, not {quality}.")
    return {"strength": float(strength), "preserve_color": _typed(body, "preserve_color", bool, False),
            "max_size": max_size, "max_pixels": MAX_PIXELS, "output_format": output_format, "quality": quality}


def read_photo(body: dict) -> tuple[bytes, str]:
    """The photo's bytes, from base64 `image` or from the gallery bucket, and which it was."""
    if ("image" in body) == ("gallery_key" in body):
        raise ApiError(400, "invalid_request", "Send the photo as base64 in 'image', or name a gallery image in "
                       "'gallery_key': exactly one of the two.")
    if "gallery_key" in body:
        return GALLERY.fetch(body["gallery_key"])[0], "gallery"
    return decode_base64(_typed(body, "image", str, None)), "upload"


def decode_base64(text: str) -> bytes:
    """Standard or URL-safe base64, with or without a data: URL prefix, line breaks or padding."""
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if not header.endswith(";base64"):
            raise ApiError(400, "invalid_base64", "A data: URL in 'image' must be base64 (data:image/...;base64,...).")
    text = "".join(text.split())
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid_base64", "'image' is not valid base64. Encode the photo file's bytes, "
                       "e.g. `base64 -w0 photo.jpg`.") from None


def fit_response(image: bytes, image_format: str, quality: int) -> tuple[bytes, int]:
    """The image as it fits in a Lambda response (6 MB with base64), re-encoded smaller if need be."""
    budget = (MAX_RESPONSE_BYTES - _RESPONSE_OVERHEAD) * 3 // 4
    if len(image) <= budget:
        return image, quality
    if image_format != "png":  # lossy: the same pixels at a lower quality, without running the network again
        decoded = stylecore.decode_image(image, max_input_pixels=stylecore.DEFAULT_MAX_INPUT_PIXELS)
        for lower in (q for q in SHRINK_QUALITIES if q < quality):
            smaller = stylecore.encode_image(decoded.rgb, decoded.alpha, image_format, lower)
            if len(smaller) <= budget:
                return smaller, lower
    raise ApiError(413, "response_too_large", f"The stylized image is {len(image) / 1e6:.1f} MB as "
                   f"{image_format.upper()}, more than a response can carry ({budget / 1e6:.1f} MB before base64). "
                   "Ask for format 'jpeg' or 'webp', or a smaller max_size.")


def _typed(body: dict, name: str, kinds, default):
    """body[name] if it has one of the JSON types wanted (true is not a number here), else a 400."""
    if name not in body:
        return default
    value = body[name]
    wanted = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, bool) != (bool in wanted) or not isinstance(value, wanted):
        names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
        raise ApiError(400, "invalid_request", f"{name!r} must be {' or '.join(names[k] for k in wanted)}.")
    return value


ROUTES = {"/styles": {"GET": list_styles}, "/stylize": {"POST": stylize}}


def handler(event, context):
    return handle(event, context, ROUTES)
