"""Errors a caller can show to a user: each has a short code (a handler maps codes to HTTP statuses)."""


class StyleCoreError(Exception):
    """Base of every error the inference core raises for bad input. `str(e)` is the user-facing message."""

    code = "stylecore_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidImage(StyleCoreError):
    """Empty, corrupt, truncated or non-image bytes."""

    code = "invalid_image"


class ImageTooLarge(StyleCoreError):
    """More pixels than allowed: refused from the header, before decoding (decompression bombs)."""

    code = "image_too_large"


class UnknownStyle(StyleCoreError):
    code = "unknown_style"


class InvalidBlend(StyleCoreError):
    """A blend that cannot be run: too few or too many styles, a style twice, negative or all-zero weights."""

    code = "invalid_blend"


class BlendAcrossNetworks(StyleCoreError):
    """Styles blend by mixing their instance-norm scales and shifts, so they must live in one network file."""

    code = "blend_across_networks"


class InvalidParameter(StyleCoreError):
    """A parameter outside its range: strength, output format, quality, max_size..."""

    code = "invalid_parameter"


class ResultTooLarge(StyleCoreError):
    """The encoded result is over the bytes allowed, at every quality tried."""

    code = "result_too_large"

    def __init__(self, message: str, size: int, max_bytes: int, image_format: str):
        super().__init__(message)
        self.size, self.max_bytes, self.image_format = size, max_bytes, image_format
