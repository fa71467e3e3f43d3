"""A painting as uploaded -> a checked, upright RGB PNG for the trainer, and a thumbnail for the job's view.

Decoding is the inference core's (stylecore.imaging): the same formats, pixel limits, EXIF orientation and
colour handling as a photo sent to POST /stylize. The trainer then only ever reads a clean PNG."""

import base64
import io

from PIL import Image
from stylecore.errors import StyleCoreError
from stylecore.imaging import decode_image

from .jobs import JobError

MIN_SIDE = 64  # a smaller image has too little texture to learn a style from
MAX_SIDE = 1024  # the trainer scales the painting to 512 on its long side (style_size); keep some margin
THUMBNAIL_SIDE = 128


def normalise_painting(data: bytes) -> tuple[bytes, str]:
    """(PNG bytes, thumbnail as a JPEG data URL), or JobError invalid_image / image_too_large."""
    try:
        decoded = decode_image(data, max_side=MAX_SIDE)
    except StyleCoreError as error:
        raise JobError(error.code, f"The painting: {error}") from None
    image = Image.fromarray(decoded.rgb)
    if min(image.size) < MIN_SIDE:
        raise JobError("invalid_image", f"The painting is {image.width}x{image.height}; a style needs at "
                       f"least {MIN_SIDE} pixels on each side.")
    png = io.BytesIO()
    image.save(png, format="PNG")
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    jpeg = io.BytesIO()
    thumb.save(jpeg, format="JPEG", quality=80)
    return png.getvalue(), "data:image/jpeg;base64," + base64.b64encode(jpeg.getvalue()).decode("ascii")
