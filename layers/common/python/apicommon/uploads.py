"""What clients upload: files as base64 strings in JSON bodies (photos for POST /stylize, paintings for
POST /styles)."""

import base64
import binascii

from apicommon.http import ApiError


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
