"""Image bytes in and out: safe decoding, sizing, colour handling and encoding (numpy + pillow only).

Decoding is defensive because the bytes come from strangers, and a file of a few kB can cost a decoder
seconds or gigabytes. Before any pixel is decoded: only common formats are parsed; the pixel count is
checked from the header; a JPEG may have at most MAX_JPEG_SCANS scans (a photo has about 10; repeating
them makes libjpeg walk the whole frame again for each) and a TIFF at most MAX_TIFF_STRIPS strips or tiles
(Pillow makes an object per strip when it opens one); and the bytes the decoded frame will hold (pixels x
bytes per pixel, at the reduced size a JPEG decodes to) must fit MAX_DECODE_BYTES. Decoding then runs
against a clock (DECODE_SECONDS), checked between the chunks the decoder is fed, and the frame is scaled
down in its own mode before any conversion multiplies its bytes. Every failure becomes an InvalidImage or
ImageTooLarge with a message a user can act on, which quotes nothing of the decoder's internals.

TIFF and BMP stay: scanners, microscopes and older cameras write TIFF, and Windows tools BMP. Both are
parsed only within the bounds above (first TIFF page only, classic TIFF, no BigTIFF).
"""

import io
import struct
import time
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import (  # noqa: F401 - importing the *ImagePlugin modules registers just the parsers we allow
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    ImageOps,
    JpegImagePlugin,
    MpoImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    UnidentifiedImageError,
    WebPImagePlugin,
)

from .errors import ImageTooLarge, InvalidImage, InvalidParameter, ResultTooLarge

# Parsers we trust with untrusted bytes (the JPEG one also reads MPO, multi-picture JPEGs from cameras).
# Pillow can open many more; EPS would even run Ghostscript.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# 50 megapixels: above any phone camera, far below a decompression bomb's billions.
DEFAULT_MAX_INPUT_PIXELS = 50_000_000
MAX_JPEG_SCANS = 64  # libjpeg writes 10 for a progressive photo, mozjpeg a few more
MAX_JPEG_SCAN_PIXELS = 1_000_000_000  # scans x pixels: the work a progressive JPEG asks for (20 scans at 50 MP)
MAX_TIFF_STRIPS = 4096
# The most memory decoding one image may take, the frame and its conversions until it is scaled down. A JPEG
# decodes at a reduced scale (draft), so for photos this never bites; a PNG, WebP or GIF cannot, and is held to
# its pixels x _BYTES_PER_PIXEL.
MAX_DECODE_BYTES = 320_000_000  # a 50 MP RGB photo decoded whole (the CLI's --max-size 0) fits
DECODE_SECONDS = 10.0  # of the Lambda's 29 s
_DECODE_CHUNK = 16_384  # bytes fed to the decoder between looks at the clock
# The peak bytes a pixel of each mode costs from decoding to the scaled-down frame (the frame, its conversion
# to RGB, the premultiplied copy Pillow resamples RGBA in), measured with tests/cost_bombs.py and rounded up.
_BYTES_PER_PIXEL = {"1": 2, "L": 2, "P": 9, "LA": 4, "La": 4, "PA": 10, "RGB": 6, "YCbCr": 6, "RGBX": 6, "CMYK": 6,
                    "RGBA": 10, "RGBa": 10, "I;16": 4, "I;16L": 4, "I;16B": 4, "I;16N": 4, "I": 7, "F": 7}
_FORMAT_BUFFERS = {"WEBP": 8}  # what the format's decoder holds besides the frame (WebP: its own RGBA canvas)

OUTPUT_FORMATS = {"jpeg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}
FORMAT_ALIASES = {"jpg": "jpeg"}
# A lossy result over its byte budget is encoded again from the same pixels at these qualities, in turn.
SHRINK_QUALITIES = (75, 60, 45, 30)

# Pillow's own bomb check warns at MAX_IMAGE_PIXELS and raises at twice that. Ours runs first
# (from the header, with a clear message); theirs stays on as a second line of defence.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, DEFAULT_MAX_INPUT_PIXELS)


@dataclass
class DecodedImage:
    """RGB pixels (H, W, 3) uint8 and, for images with transparency, their alpha (H, W) uint8."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None

    @property
    def width(self) -> int:
        return self.rgb.shape[1]

    @property
    def height(self) -> int:
        return self.rgb.shape[0]


def fit_size(width: int, height: int, max_side: int | None = None, max_pixels: int | None = None) -> tuple:
    """The largest size with the same aspect ratio within max_side and max_pixels (never enlarges)."""
    scale = 1.0
    if max_side:
        scale = min(scale, max_side / max(width, height))
    if max_pixels:
        scale = min(scale, (max_pixels / (width * height)) ** 0.5)
    if scale >= 1.0:
        return width, height
    return max(1, int(width * scale + 0.5)), max(1, int(height * scale + 0.5))


class _ClockedBytes(io.BytesIO):
    """The file a decoder reads, which refuses to go on once the deadline has passed: Pillow feeds its
    decoders in chunks, so a decode that runs long stops at the next chunk."""

    deadline = float("inf")

    def read(self, size: int | None = -1) -> bytes:
        if time.monotonic() > self.deadline:
            raise ImageTooLarge(f"the image takes too long to decode (over {DECODE_SECONDS:g} s); "
                                "send it as a plain JPEG or PNG")
        return super().read(size)


def open_image(data: bytes, max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> Image.Image:
    """Parse the header only and refuse what we will not decode."""
    if not data:
        raise InvalidImage("the image is empty (0 bytes)")
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        check_tiff_layout(data)  # before Pillow opens it: opening builds an object per strip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(_ClockedBytes(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # Pillow's own check, first
        raise ImageTooLarge(f"the image has far too many pixels; the limit is "
                            f"{max_input_pixels / 1e6:.0f} megapixels") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImage("not a supported image: send a JPEG, PNG, WebP, GIF, BMP or TIFF file") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        raise InvalidImage("the image header is corrupt") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage(f"the image has no pixels ({width}x{height})")
    if width * height > max_input_pixels:
        raise ImageTooLarge(f"the image is {width}x{height} = {width * height / 1e6:.1f} megapixels; "
                            f"the limit is {max_input_pixels / 1e6:.0f} megapixels")
    if image.format == "JPEG":
        scans = count_jpeg_scans(data)
        if scans > MAX_JPEG_SCANS or scans * width * height > MAX_JPEG_SCAN_PIXELS:
            raise ImageTooLarge(f"the JPEG has {scans} scans over {width * height / 1e6:.1f} megapixels, more "
                                f"work than a photo needs (at most {MAX_JPEG_SCANS} scans, and "
                                f"{MAX_JPEG_SCAN_PIXELS / 1e9:g} billion scan pixels); save it again as a plain JPEG")
    return image


def count_jpeg_scans(data: bytes) -> int:
    """How many SOS markers a JPEG has: the markers, walked from the start, and in each scan's entropy-coded
    data the 0xFF bytes that are neither stuffing (FF00) nor restarts (FFD0-FFD7)."""
    scans, position, size = 0, 2, len(data)
    while position + 4 <= size:
        if data[position] != 0xFF:
            return scans  # not a marker where one must be: the decoder will say the file is corrupt
        marker = data[position + 1]
        if marker == 0xFF:  # fill bytes before a marker
            position += 1
            continue
        if marker == 0xD9:  # EOI
            return scans
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            position += 2
            continue
        position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
        if marker != 0xDA:
            continue
        scans += 1
        while True:  # the entropy-coded data, to the next real marker
            position = data.find(b"\xff", position)
            if position < 0 or position + 1 >= size:
                return scans
            following = data[position + 1]
            if following == 0 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                position += 1 if following == 0xFF else 2
                continue
            break
    return scans


def check_tiff_layout(data: bytes) -> None:
    """Refuse a TIFF whose first page has more than MAX_TIFF_STRIPS strips or tiles, from its IFD alone."""
    if data[2:4] in (b"+\x00", b"\x00+"):
        raise InvalidImage("BigTIFF is not supported: send a JPEG, PNG or classic TIFF")
    order = "<" if data[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(order + "I", data, 4)
        (entries,) = struct.unpack_from(order + "H", data, ifd)
        for index in range(entries):
            tag, _, count = struct.unpack_from(order + "HHI", data, ifd + 2 + 12 * index)
            if tag in (273, 279, 324, 325) and count > MAX_TIFF_STRIPS:  # Strip/Tile Offsets and ByteCounts
                raise ImageTooLarge(f"the TIFF is cut into {count} strips or tiles; at most {MAX_TIFF_STRIPS} are "
                                    "read. Save it again with larger strips, or as a JPEG or PNG")
    except struct.error as exc:
        raise InvalidImage("the TIFF header is corrupt") from exc


def decode_bytes(image: Image.Image) -> int:
    """The bytes decoding `image` (already drafted) holds at once, before it is scaled down."""
    width, height = image.size
    per_pixel = _BYTES_PER_PIXEL.get(image.mode, 10) + _FORMAT_BUFFERS.get(image.format, 0)
    return width * height * per_pixel


def decode_image(data: bytes, max_side: int | None = None, max_pixels: int | None = None,
                 max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS, *, max_decode_bytes: int = MAX_DECODE_BYTES,
                 decode_seconds: float = DECODE_SECONDS) -> DecodedImage:
    """Bytes -> upright RGB (+ alpha) uint8 pixels, scaled down to fit max_side / max_pixels, within the bounds
    of the module's docstring."""
    image = open_image(data, max_input_pixels)
    target = fit_size(*image.size, max_side, max_pixels)
    if image.format == "JPEG" and target != image.size:
        image.draft(None, target)  # let libjpeg decode at 1/2, 1/4 or 1/8 scale: faster, less memory
    needed = decode_bytes(image)
    if needed > max_decode_bytes:
        width, height = image.size
        raise ImageTooLarge(f"the {image.format} image ({width}x{height}, {image.mode}) would take "
                            f"{needed / 1e6:.0f} MB to decode; the limit is {max_decode_bytes / 1e6:.0f} MB. "
                            "Send a smaller image, or a JPEG")
    image.fp.deadline = time.monotonic() + decode_seconds
    image.decodermaxblock = _DECODE_CHUNK
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"the image has too many pixels; the limit is {max_input_pixels / 1e6:.0f} megapixels") \
            from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        raise InvalidImage("the image data is corrupt or truncated") from exc
    image = shrink(image, target)
    image = apply_orientation(image)
    image = to_srgb(image)
    rgb, alpha = split_alpha(image)
    size = fit_size(*rgb.size, max_side, max_pixels)
    if size != rgb.size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        alpha = alpha.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if alpha else None
    return DecodedImage(np.asarray(rgb, dtype=np.uint8), np.asarray(alpha, dtype=np.uint8) if alpha else None)


_RESAMPLED_AS_IS = ("L", "LA", "RGB", "RGBA", "CMYK")
_HIGH_DEPTH = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def shrink(image: Image.Image, size: tuple) -> Image.Image:
    """The frame scaled down to `size` before the conversions after it (to RGB, through a colour profile)
    multiply its bytes: in its own mode where Pillow resamples it, high-depth gray as 8 bits first. Palette and
    1-bit frames are left to split_alpha (Pillow resamples them only by nearest pixel)."""
    if size == image.size or image.mode not in (*_RESAMPLED_AS_IS, *_HIGH_DEPTH):
        return image
    exif = image.getexif()  # the EXIF orientation and colour profile still apply to the small frame
    source = Image.fromarray(high_depth_to_uint8(image)) if image.mode in _HIGH_DEPTH else image
    shrunk = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    shrunk.info, shrunk._exif = image.info, exif  # noqa: SLF001 - exif_transpose reads the EXIF from _exif
    return shrunk


def apply_orientation(image: Image.Image) -> Image.Image:
    """Turn the pixels the way the EXIF Orientation tag says; a broken EXIF block is ignored."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - malformed EXIF must not cost the user their photo
        return image


def to_srgb(image: Image.Image) -> Image.Image:
    """Convert through an embedded ICC profile (CMYK print files, wide-gamut photos) when there is one."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=out_mode)
    except Exception:  # noqa: BLE001 - a bad or unsupported profile: fall back to the plain conversion
        return image


def split_alpha(image: Image.Image) -> tuple:
    """Any Pillow mode -> (RGB image, alpha 'L' image or None)."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(high_depth_to_uint8(image)).convert("RGB"), None
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("PA", "RGBa", "La"):
        image = image.convert("RGBA")
    elif mode == "1":
        image = image.convert("L")
    elif mode == "LA":
        gray, alpha = image.split()
        return gray.convert("RGB"), alpha
    if image.mode == "RGBA":
        # The network sees RGB only; alpha is kept aside and put back on the result.
        return image.convert("RGB"), image.getchannel("A")
    return image.convert("RGB"), None


def high_depth_to_uint8(image: Image.Image) -> np.ndarray:
    """16-bit (and 32-bit int / float) grayscale to 8 bits by its real range, not by clipping at 255. Done a band
    of rows at a time (cropped from the frame), so that the wide intermediates hold a band, not the frame."""
    width, height = image.size
    high = image.getextrema()[1] if width * height else 0
    if image.mode == "F":
        peak = 1.0 if high <= 1.0 else 255.0
        convert = lambda rows: np.clip(np.nan_to_num(rows) * (255.0 / peak) + 0.5, 0, 255)  # noqa: E731
    elif image.mode.startswith("I;16") or high > 255:
        convert = lambda rows: np.clip((rows.astype(np.int64) + 128) // 257, 0, 255)  # noqa: E731 - 65535 -> 255
    else:
        convert = lambda rows: np.clip(rows, 0, 255)  # noqa: E731
    out = np.empty((height, width), np.uint8)
    band = max(1, (1 << 20) // max(1, width))
    for top in range(0, height, band):
        out[top:top + band] = convert(np.asarray(image.crop((0, top, width, min(height, top + band)))))
    return out


# ------------------------------------------------------------------------------------ colour

LUMA = (0.299, 0.587, 0.114)  # BT.601 luminance weights of R, G and B


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """Full-range BT.601 (as in JPEG), float in and out, 0..255 scale."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b
    cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return np.stack([y, cb, cr], axis=-1)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    y, cb, cr = ycc[..., 0], ycc[..., 1] - 128.0, ycc[..., 2] - 128.0
    return np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)


def transfer_luminance(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The stylized image's luminance with the content's chroma (Gatys et al. 2016, 'colour preservation')."""
    ycc = rgb_to_ycbcr(content.astype(np.float32))
    ycc[..., 0] = rgb_to_ycbcr(stylized)[..., 0]
    return ycbcr_to_rgb(ycc)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------- encoding

def normalize_format(output_format: str) -> str:
    name = FORMAT_ALIASES.get(str(output_format).lower(), str(output_format).lower())
    if name not in OUTPUT_FORMATS:
        raise InvalidParameter(f"unknown output format {output_format!r}: use jpeg, png or webp")
    return name


def encode_image(rgb: np.ndarray, alpha: np.ndarray | None, output_format: str, quality: int = 90) -> bytes:
    """uint8 RGB (+ alpha) -> file bytes. No metadata is copied from the input (no EXIF, no GPS)."""
    name = normalize_format(output_format)
    pil_format, _ = OUTPUT_FORMATS[name]
    image = Image.fromarray(rgb, "RGB")
    if alpha is not None:
        if name == "jpeg":  # JPEG has no alpha: flatten onto white, as a browser shows it on a page
            weight = alpha.astype(np.float32)[..., None] / 255.0
            image = Image.fromarray(to_uint8(rgb * weight + 255.0 * (1.0 - weight)), "RGB")
        else:
            image.putalpha(Image.fromarray(alpha, "L"))
    out = io.BytesIO()
    if name == "jpeg":
        image.save(out, "JPEG", quality=quality, optimize=True)
    elif name == "png":
        image.save(out, "PNG", compress_level=6)
    else:
        image.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()


def encode_image_within(rgb: np.ndarray, alpha: np.ndarray | None, output_format: str, quality: int = 90,
                        max_bytes: int | None = None) -> tuple[bytes, int]:
    """encode_image held to max_bytes: (file bytes, the quality used). A JPEG or WebP over it is encoded again
    at the lower SHRINK_QUALITIES until it fits; ResultTooLarge where nothing does (a PNG cannot shrink)."""
    name = normalize_format(output_format)
    data = encode_image(rgb, alpha, name, quality)
    if max_bytes is None or len(data) <= max_bytes:
        return data, quality
    if name != "png":
        for lower in (q for q in SHRINK_QUALITIES if q < quality):
            smaller = encode_image(rgb, alpha, name, lower)
            if len(smaller) <= max_bytes:
                return smaller, lower
    raise ResultTooLarge(f"the {name.upper()} result is {len(data) / 1e6:.1f} MB, over the "
                         f"{max_bytes / 1e6:.1f} MB allowed", len(data), max_bytes, name)
