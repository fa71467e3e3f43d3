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
# brush: the size of the strokes relative to the picture. A style network paints strokes of a fixed size in
# pixels, so a photo is painted with its long side at BRUSH_WORKING_SIDE / brush pixels and the painting is
# brought to the photo's size (stylecore.brush). 1024 is the size of the preview (the API's and the web app's
# max_size) and twice to four times the pictures the bundled network learned from (256 px crops of photos of
# 256-512 px): a print then has the preview's strokes, at a scale the network was trained to paint. Photos at
# or under the working side are painted as they are, as before. The smallest brush paints at the core's
# largest side (MAX_SIZE_RANGE): the old behaviour, full-size painting, for every photo up to 8192 px.
DEFAULT_BRUSH = 1.0
BRUSH_WORKING_SIDE = 1024
BRUSH_RANGE = (0.125, 4.0)  # long side painted at 8192 .. 256 px


def _whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class StylizeOptions:
    """strength 0 (the photo) .. 1 (the style); preserve_color keeps the photo's colours; max_size bounds the
    longest side and max_pixels the pixel count (the photo is scaled down to fit, never up; None: no bound);
    output_format jpeg (or jpg), png or webp; quality for JPEG and WebP; brush the size of the strokes
    relative to the picture (larger: bigger strokes); protect_faces lowers the strength inside detected faces."""

    strength: float = 1.0
    preserve_color: bool = False
    max_size: int | None = DEFAULT_MAX_SIZE
    output_format: str = DEFAULT_FORMAT
    quality: int = DEFAULT_QUALITY
    max_pixels: int | None = None
    brush: float = DEFAULT_BRUSH
    protect_faces: bool = False

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
        low, high = BRUSH_RANGE
        if isinstance(self.brush, bool) or not isinstance(self.brush, int | float) or not low <= self.brush <= high:
            raise InvalidParameter(f"brush must be a number from {low:g} (the finest strokes: the photo painted at "
                                   f"full size) to {high:g} (the broadest), not {self.brush!r}")
        return replace(self, strength=float(self.strength), preserve_color=bool(self.preserve_color),
                       output_format=normalize_format(self.output_format), brush=float(self.brush),
                       protect_faces=bool(self.protect_faces))


def working_side(brush: float) -> int:
    """The long side, in pixels, at which a photo is painted with this brush."""
    return max(1, round(BRUSH_WORKING_SIDE / brush))
