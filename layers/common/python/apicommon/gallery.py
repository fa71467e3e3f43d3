"""The gallery: sample photos under a prefix of a private S3 bucket.

Keys come from clients, so every key is checked before S3 sees it: under the prefix, no `..`, `.` or
empty segment, a short list of safe characters, an image extension, S3's length cap (in UTF-8 bytes).
Listing applies the same rule, so every listed key can be fetched. What S3 returns is checked too: an
object that is empty, over MAX_IMAGE_BYTES (its base64 would not fit in a Lambda response) or not the image
its extension names is not served. Errors name neither the bucket nor the endpoint: S3's own words go to
the log only.
"""

import base64
import binascii
import os
import re

from apicommon.http import MAX_RESPONSE_BYTES, ApiError, log, shown

CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
# The first bytes of each type: an object is served only if its bytes are the image its extension says.
MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/webp": (b"RIFF",)}
MAX_KEY_BYTES = 1024  # S3's own limit, in UTF-8 bytes
MAX_IMAGE_BYTES = 2_900_000  # its base64, 3.87 MB, fits in a response (MAX_RESPONSE_BYTES)
assert MAX_IMAGE_BYTES * 4 // 3 + 2_000 < MAX_RESPONSE_BYTES
PRESIGNED_URL_SECONDS = 3600
# Letters and digits of any script, and a few punctuation marks; no `\`, `%`, `:` or control characters.
_SEGMENT = re.compile(r"[\w\-.,()+ ]+")


def content_type(key: str) -> str | None:
    return CONTENT_TYPES.get(os.path.splitext(key)[1].lower())


class Gallery:
    def __init__(self, bucket: str | None, prefix: str = "gallery/", s3_client=None):
        self.bucket, self.prefix, self._s3 = bucket, prefix, s3_client

    @classmethod
    def from_env(cls) -> "Gallery":
        """GALLERY_BUCKET and GALLERY_PREFIX; the S3 client is made on first use (boto3 costs ~0.3 s to import)."""
        return cls(os.environ.get("GALLERY_BUCKET") or None, os.environ.get("GALLERY_PREFIX", "gallery/"))

    @property
    def s3(self):
        if self.bucket is None:
            raise ApiError(503, "gallery_unavailable", "This deployment has no gallery bucket "
                           "(GALLERY_BUCKET is unset).")
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            # SigV4 presigned URLs work in every region; retries are few because a person is waiting.
            self._s3 = boto3.client("s3", config=Config(signature_version="s3v4", retries={"max_attempts": 2},
                                                        connect_timeout=5, read_timeout=10))
        return self._s3

    def check_key(self, key) -> str:
        """The key, if a client may read it; a 400 `invalid_key` saying why not otherwise."""
        if not isinstance(key, str):
            raise ApiError(400, "invalid_key", f"A gallery key must be a string, not {type(key).__name__}.")
        if not key or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise ApiError(400, "invalid_key", f"A gallery key has 1 to {MAX_KEY_BYTES} bytes (UTF-8).")
        if not key.startswith(self.prefix):
            raise ApiError(400, "invalid_key", f"Gallery keys start with {self.prefix!r} (see GET /gallery).")
        for segment in key.split("/"):
            if segment in ("", ".", "..") or not _SEGMENT.fullmatch(segment):
                raise ApiError(400, "invalid_key", "A gallery key is a plain path: no '..', '.' or empty segment, "
                               "and only letters, digits, spaces and - _ . , ( ) +.")
        if content_type(key) is None:
            raise ApiError(400, "invalid_key", f"Gallery images end in {', '.join(CONTENT_TYPES)}.")
        return key

    def list(self, limit: int = 50, cursor: str | None = None) -> dict:
        """A page of images in key order. The cursor is the last key returned (base64url), so pages
        stay full however many non-images the bucket holds."""
        start_after = self._decode_cursor(cursor) if cursor else None
        images, more = [], True
        while more and len(images) < limit:
            params = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": 1000}
            if start_after:
                params["StartAfter"] = start_after
            page = self._call(self.s3.list_objects_v2, **params)
            objects = page.get("Contents", [])
            more = bool(page.get("IsTruncated"))
            for item in objects:
                start_after = item["Key"]
                if self._listable(item):
                    images.append(self._describe(item))
                    if len(images) == limit:
                        more = more or item is not objects[-1]
                        break
        next_cursor = base64.urlsafe_b64encode(images[-1]["key"].encode()).decode() if more and images else None
        return {"images": images, "next_cursor": next_cursor}

    def fetch(self, key) -> tuple[bytes, str]:
        """The image's bytes and content type, or 400/404/413 (404 too for an object that is not an image)."""
        key = self.check_key(key)
        obj = self._call(self.s3.get_object, Bucket=self.bucket, Key=key)
        with obj["Body"] as body:  # at most one byte past the cap, whatever ContentLength says
            data = body.read(MAX_IMAGE_BYTES + 1) if obj.get("ContentLength", 0) <= MAX_IMAGE_BYTES else None
        if data is None or len(data) > MAX_IMAGE_BYTES:
            raise ApiError(413, "image_too_large", f"The gallery image {shown(key)} is over "
                           f"{MAX_IMAGE_BYTES / 1e6:.1f} MB, the most a gallery image may be.")
        if not data:
            raise ApiError(404, "not_found", f"The gallery object {shown(key)} is empty, not an image.")
        mime = content_type(key)
        if not data.startswith(MAGIC[mime]) or (mime == "image/webp" and data[8:12] != b"WEBP"):
            raise ApiError(404, "not_found", f"The gallery object {shown(key)} is not the {mime} its name says.")
        return data, mime

    def _listable(self, item: dict) -> bool:
        try:
            self.check_key(item["Key"])
        except ApiError:
            return False
        return 0 < item.get("Size", 0) <= MAX_IMAGE_BYTES

    def _describe(self, item: dict) -> dict:
        key = item["Key"]
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                             ExpiresIn=PRESIGNED_URL_SECONDS)
        return {"key": key, "name": key.rsplit("/", 1)[-1], "size": item["Size"],
                "last_modified": item["LastModified"].isoformat(), "content_type": content_type(key), "url": url}

    def _decode_cursor(self, cursor: str) -> str:
        try:
            return self.check_key(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8"))
        except (ApiError, binascii.Error, UnicodeError, ValueError):
            raise ApiError(400, "invalid_parameter", "The cursor is not one this API returned; "
                           "start again without it.") from None

    def _call(self, operation, **params) -> dict:
        """An S3 call, its errors mapped: a missing key is 404 (403 too: S3 says AccessDenied for a missing
        key to a caller that may not list), anything else 503."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return operation(**params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if "Key" in params and code in ("NoSuchKey", "404", "NotFound", "AccessDenied", "403"):
                raise ApiError(404, "not_found", f"No gallery image {shown(params['Key'])}.") from None
            log("gallery S3 error", "ERROR", error=str(error))
            raise ApiError(503, "gallery_unavailable", "The gallery could not be read; try again later.") from None
        except BotoCoreError as error:
            log("gallery S3 error", "ERROR", error=str(error))
            raise ApiError(503, "gallery_unavailable", "The gallery could not be reached; try again later.") from None
