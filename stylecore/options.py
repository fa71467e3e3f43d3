"""What a caller may ask of a stylization, with its ranges, defaults and messages, written once.

The `stylize` command and the pipeline take the core's ranges; a handler passes its tighter caps as
arguments (the API: max_size 16..2048, and results held to WHOLE_IMAGE_PIXELS so none is tiled).
"""

from dataclasses import dataclass, replace

from .errors import InvalidParameter
from .imaging import normalize_format

DEFAULT_MAX_SIZE = 1024
DEFAULT_FORMAT = "jpeg"
DEFAULT_QUALITY = 90
STRENGTH_RANGE = (0.0, 1.0)
MAX_SIZE_RANGE = (1, 8192)  # the longest side of a result
QUALITY_RANGE = (1, 100)


def _whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class StylizeOptions:
    """strength 0 (the photo) .. 1 (the style); preserve_color keeps the photo's colours; max_size bounds the
    longest side and max_pixels the pixel count (the photo is scaled down to fit, never up; None: no bound);
    output_format jpeg (or jpg), png or webp; quality for JPEG and WebP."""

    strength: float = 1.0
    preserve_color: bool = False
    max_size: int | None = DEFAULT_MAX_SIZE
    output_format: str = DEFAULT_FORMAT
    quality: int = DEFAULT_QUALITY
    max_pixels: int | None = None

    def checked(self, max_size_range: tuple = MAX_SIZE_RANGE) -> "StylizeOptions":
        """These options, validated (InvalidParameter says what is wrong) and normalised ("jpg" -> "jpeg")."""
        low, high = STRENGTH_RANGE
        if isinstance(self.strength, bool) or not isinstance(self.strength, int | float) \
                or not low <= self.strength <= high:
            raise InvalidParameter(f"strength must be a number from {low:g} (the photo) to {high:g} (the style), "
                                   f"not {self.strength!r}")
        low, high = max_size_range
        if self.max_size is not None and (not _whole_number(self.max_size) or not low <= self.max_size <= high):
            raise InvalidParameter(f"max_size must be a whole number of pixels from {low} to {high}, "
                                   f"not {self.max_size!r}")
        if self.max_pixels is not None and (not _whole_number(self.max_pixels) or self.max_pixels < 1):
            raise InvalidParameter(f"max_pixels must be a positive whole number, not {self.max_pixels!r}")
        low, high = QUALITY_RANGE
        if not _whole_number(self.quality) or not low <= self.quality <= high:
            raise InvalidParameter(f"quality must be a whole number from {low} to {high}, not {self.quality!r}")
        return replace(self, strength=float(self.strength), preserve_color=bool(self.preserve_color),
                       output_format=normalize_format(self.output_format))
