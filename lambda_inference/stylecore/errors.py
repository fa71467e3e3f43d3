"""Errors a caller can show to a user: each has a short code and the HTTP status that fits it."""


class StyleCoreError(Exception):
    """Base of every error the inference core raises for bad input. `str(e)` is the user-facing message."""

    code = "stylecore_error"
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidImage(StyleCoreError):
    """Empty, corrupt, truncated or non-image bytes."""

    code = "invalid_image"
    status = 400


class ImageTooLarge(StyleCoreError):
    """More pixels than allowed: refused from the header, before decoding (decompression bombs)."""

    code = "image_too_large"
    status = 413


class UnknownStyle(StyleCoreError):
    code = "unknown_style"
    status = 404


class InvalidParameter(StyleCoreError):
    """A parameter outside its range: strength, output format, quality, max_size..."""

    code = "invalid_parameter"
    status = 400
