"""The inference Lambda: GET /styles and POST /stylize, a thin handler over the inference core.

The registry and every style's onnxruntime session are made at init, so the cold start pays for them
once and warm requests only run the network. Models come from MODELS_DIR (the bundled models layer,
/opt/models) or from MODELS_BUCKET + MODELS_PREFIX (cached in /tmp). HTTP plumbing and gallery reads
live in the common layer (apicommon), shared with the gallery Lambda; which styles a request may use (the
bundled ones, and the caller's own) in styles.py beside this handler.
"""

import base64
import time

import stylecore
from apicommon.gallery import Gallery
from apicommon.http import MAX_RESPONSE_BYTES, ApiError, Request, Response, check_fields, handle, log, typed_field
from apicommon.uploads import decode_base64
from styles import Styles, UserStyles

_init_started = time.perf_counter()
REGISTRY = stylecore.StyleRegistry.from_env()
REGISTRY.warm()  # one session per network file, made here so that no request pays for it
GALLERY = Gallery.from_env()
STYLES = Styles(REGISTRY, UserStyles.from_env())  # + users' own styles by their unguessable ids, when training is on
log("init", models=REGISTRY.source, styles=len(REGISTRY.list_styles()),
    init_ms=round((time.perf_counter() - _init_started) * 1000, 1))

MAX_SIZE_RANGE = (16, 2048)  # the API's cap on max_size, tighter than the core's (openapi.yaml)
# Results are also held to the pixels the core runs in one piece (1920x1080 fits): larger ones would be
# stylized in tiles, which measured several times slower (README, "Sizing") and could not finish within the
# HTTP API's 30 s.
MAX_PIXELS = stylecore.WHOLE_IMAGE_PIXELS
_RESPONSE_OVERHEAD = 2_000  # the JSON around the image, headers included
# The HTTP status of each error the core raises (errors the handler raises itself carry their own).
CORE_ERROR_STATUS = {"invalid_image": 400, "invalid_parameter": 400, "unknown_style": 404, "image_too_large": 413,
                     "result_too_large": 413, "invalid_blend": 400, "blend_across_networks": 400}


def list_styles(request: Request) -> dict:
    return {"styles": REGISTRY.list_styles()}


def stylize(request: Request) -> Response:
    body = request.json()
    check_fields(body, required=set(),
                 optional={"style", "blend", "image", "gallery_key", "mask", "strength", "preserve_color",
                           "max_size", "format", "quality", "brush", "protect_faces"})
    options = stylize_options(body)
    image_budget = (MAX_RESPONSE_BYTES - _RESPONSE_OVERHEAD) * 3 // 4  # the image file, before base64
    try:
        stylizer, style, blend = chosen_style(body)  # an unknown style is refused before the photo is read
        started = time.perf_counter()
        photo, source = read_photo(body)
        mask = read_mask(body)
        input_ms = (time.perf_counter() - started) * 1000
        result = stylecore.stylize_bytes(photo, stylizer, options, mask=mask, max_bytes=image_budget)
    except stylecore.StyleCoreError as error:
        raise api_error(error) from error
    image = base64.b64encode(result.image).decode("ascii")
    timings = {"input_ms": round(input_ms, 1), **{k: round(result.timings[k], 1)
                                                   for k in ("decode_ms", "inference_ms", "encode_ms")},
               "total_ms": round((time.perf_counter() - request.received_at) * 1000, 1)}
    payload = {
        "image": image,
        "format": result.format, "mime_type": result.mime_type, "width": result.width, "height": result.height,
        "style": style, "strength": options.strength, "preserve_color": options.preserve_color,
        "quality": result.quality, "timings": timings,
    }
    if blend:
        payload["blend"] = blend
    return Response(payload, timings=dict(timings), log={
        "style": style, "source": source, "input_bytes": len(photo), "output_bytes": len(result.image),
        "width": result.width, "height": result.height, "format": result.format})


def chosen_style(body: dict) -> tuple[stylecore.Stylizer, str, list | None]:
    """The stylizer for `style` (one style) or `blend` ([{style, weight}, ...]: exactly one of the two), the
    style label of the result, and the blend as run (weights normalised)."""
    if ("style" in body) == ("blend" in body):
        raise ApiError(400, "invalid_request", "Name one style in 'style', or mix styles in 'blend': exactly one "
                       "of the two.")
    if "style" in body:
        style = typed_field(body, "style", str, None)
        return STYLES.get(style), style, None
    parts = typed_field(body, "blend", list, None)
    if not all(isinstance(p, dict) and set(p) == {"style", "weight"} for p in parts):
        raise ApiError(400, "invalid_request", "'blend' is a list of {\"style\": id, \"weight\": number} objects.")
    pairs = [(typed_field(p, "style", str, None), typed_field(p, "weight", (int, float), None)) for p in parts]
    stylizer = STYLES.blend(pairs)
    weights = dict(zip(stylizer.style_ids, stylizer.style_weights.tolist(), strict=True))
    blend = [{"style": style_id, "weight": round(weights[style_id], 6)} for style_id, _ in pairs]
    return stylizer, stylizer.style_id, blend


def api_error(error: stylecore.StyleCoreError) -> ApiError:
    """An error of the core as the API reports it: its status, and its code and message."""
    if isinstance(error, stylecore.ResultTooLarge):
        return ApiError(413, "response_too_large", f"The stylized image is {error.size / 1e6:.1f} MB as "
                        f"{error.image_format.upper()}, more than a response can carry ({error.max_bytes / 1e6:.1f} "
                        "MB before base64). Ask for format 'jpeg' or 'webp', or a smaller max_size.")
    return ApiError(CORE_ERROR_STATUS.get(error.code, 400), error.code, str(error))


def stylize_options(body: dict) -> stylecore.StylizeOptions:
    """The request's options, checked against the contract (openapi.yaml): JSON types here, ranges by the core
    with the API's caps."""
    defaults = stylecore.StylizeOptions()
    options = stylecore.StylizeOptions(
        strength=typed_field(body, "strength", (int, float), defaults.strength),
        preserve_color=typed_field(body, "preserve_color", bool, defaults.preserve_color),
        max_size=typed_field(body, "max_size", int, defaults.max_size),
        output_format=typed_field(body, "format", str, defaults.output_format),
        quality=typed_field(body, "quality", int, defaults.quality),
        max_pixels=MAX_PIXELS,
        brush=typed_field(body, "brush", (int, float), defaults.brush),
        protect_faces=typed_field(body, "protect_faces", bool, defaults.protect_faces))
    try:
        return options.checked(max_size_range=MAX_SIZE_RANGE)
    except stylecore.StyleCoreError as error:
        raise api_error(error) from error


def read_photo(body: dict) -> tuple[bytes, str]:
    """The photo's bytes, from base64 `image` or from the gallery bucket, and which it was."""
    if ("image" in body) == ("gallery_key" in body):
        raise ApiError(400, "invalid_request", "Send the photo as base64 in 'image', or name a gallery image in "
                       "'gallery_key': exactly one of the two.")
    if "gallery_key" in body:
        return GALLERY.fetch(body["gallery_key"])[0], "gallery"
    return decode_base64(typed_field(body, "image", str, None)), "upload"


def read_mask(body: dict) -> bytes | None:
    """The mask's bytes from base64 `mask`, or None; its pixels are checked by the core, as the photo's are."""
    if "mask" not in body:
        return None
    try:
        return decode_base64(typed_field(body, "mask", str, None))
    except ApiError as error:  # the shared decoder names 'image'
        raise ApiError(error.status, error.code, str(error).replace("'image'", "'mask'")
                       .replace("the photo file's", "the mask file's")) from None


ROUTES = {"/styles": {"GET": list_styles}, "/stylize": {"POST": stylize}}


def handler(event, context):
    return handle(event, context, ROUTES)
