"""Image bytes in and out: safe decoding, sizing, colour handling and encoding (numpy + pillow only).

Decoding is defensive because the bytes come from strangers: only common formats are parsed, the
pixel count is checked from the header before any pixel is decoded, and every failure becomes an
InvalidImage or ImageTooLarge with a message a user can act on.
"""

import io
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


def open_image(data: bytes, max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> Image.Image:
    """Parse the header only and refuse what we will not decode."""
    if not data:
        raise InvalidImage("the image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # Pillow's own check, first
        raise ImageTooLarge(f"the image has far too many pixels; the limit is "
                            f"{max_input_pixels / 1e6:.0f} megapixels") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImage("not a supported image: send a JPEG, PNG, WebP, GIF, BMP or TIFF file") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(f"the image header is corrupt ({exc})") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage(f"the image has no pixels ({width}x{height})")
    if width * height > max_input_pixels:
        raise ImageTooLarge(f"the image is {width}x{height} = {width * height / 1e6:.1f} megapixels; "
                            f"the limit is {max_input_pixels / 1e6:.0f} megapixels")
    return image


def decode_image(data: bytes, max_side: int | None = None, max_pixels: int | None = None,
                 max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> DecodedImage:
    """Bytes -> upright RGB (+ alpha) uint8 pixels, scaled down to fit max_side / max_pixels."""
    image = open_image(data, max_input_pixels)
    target = fit_size(*image.size, max_side, max_pixels)
    if image.format == "JPEG" and target != image.size:
        image.draft(None, target)  # let libjpeg decode at 1/2, 1/4 or 1/8 scale: faster, less memory
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"the image has too many pixels; the limit is {max_input_pixels / 1e6:.0f} megapixels") \
            from exc
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise InvalidImage(f"the image data is corrupt or truncated ({exc})") from exc
    image = apply_orientation(image)
    image = to_srgb(image)
    rgb, alpha = split_alpha(image)
    size = fit_size(*rgb.size, max_side, max_pixels)
    if size != rgb.size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        alpha = alpha.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if alpha else None
    return DecodedImage(np.asarray(rgb, dtype=np.uint8), np.asarray(alpha, dtype=np.uint8) if alpha else None)


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
    """16-bit (and 32-bit int / float) grayscale to 8 bits by its real range, not by clipping at 255."""
    pixels = np.asarray(image)
    if pixels.dtype.kind == "f":
        peak = 1.0 if pixels.size and np.nanmax(pixels) <= 1.0 else 255.0
        return np.clip(np.nan_to_num(pixels) * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
    pixels = pixels.astype(np.int64)
    if image.mode.startswith("I;16") or (pixels.size and pixels.max() > 255):
        return np.clip((pixels + 128) // 257, 0, 255).astype(np.uint8)  # 65535 -> 255
    return np.clip(pixels, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------ colour

def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """Full-range BT.601 (as in JPEG), float in and out, 0..255 scale."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
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
