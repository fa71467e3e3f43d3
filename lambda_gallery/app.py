"""The gallery Lambda: list the sample photos in the gallery bucket, and return one as base64.

GET /gallery?limit=&cursor=  ->  {"images": [{"key", "name", "size", "url", ...}], "next_cursor"}
POST /gallery {"key": ...}   ->  {"key", "image", "content_type", "size"}
The rules for keys and the S3 calls live in the common layer (apicommon.gallery), which the
inference Lambda shares for `gallery_key`.
"""

import base64
import re

from apicommon.gallery import Gallery
from apicommon.http import ApiError, Request, check_fields, handle, shown

MAX_CURSOR_CHARS = 2048  # a base64url key of at most 1,024 bytes is 1,368 (openapi.yaml: cursor's maxLength)

GALLERY = Gallery.from_env()
if GALLERY.bucket:  # make the S3 client during init, which the cold start pays anyway
    _ = GALLERY.s3


def list_images(request: Request) -> dict:
    limit = request.query.get("limit", "50")
    # ASCII digits only: str.isdigit() also takes "²" and "①", which int() refuses
    if not re.fullmatch("[0-9]{1,3}", limit) or not 1 <= int(limit) <= 100:
        raise ApiError(400, "invalid_parameter", f"limit must be an integer from 1 to 100, not {shown(limit)}.")
    cursor = request.query.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR_CHARS:
        raise ApiError(400, "invalid_parameter", f"cursor has at most {MAX_CURSOR_CHARS} characters.")
    return GALLERY.list(int(limit), cursor)


def get_image(request: Request) -> dict:
    body = request.json()
    check_fields(body, required={"key"})
    data, content_type = GALLERY.fetch(body["key"])
    return {"key": body["key"], "image": base64.b64encode(data).decode("ascii"),
            "content_type": content_type, "size": len(data)}


ROUTES = {"/gallery": {"GET": list_images, "POST": get_image}}


def handler(event, context):
    return handle(event, context, ROUTES)
