"""stylecore: the torch-free inference core (numpy, pillow, onnxruntime; boto3 only for S3).

The Lambda handler, the local stack, the `stylize` CLI, `training evaluate` on ONNX files and the
exporter's parity check all stylize through here, so one fix serves all of them.

    registry = StyleRegistry.from_dir("models")
    result = stylize_bytes(photo_bytes, registry.get("great_wave"), strength=0.8, output_format="webp")
"""

from .errors import (
    BlendAcrossNetworks,
    ImageTooLarge,
    InvalidBlend,
    InvalidImage,
    InvalidParameter,
    ResultTooLarge,
    StyleCoreError,
    UnknownStyle,
)
from .imaging import (
    DEFAULT_MAX_INPUT_PIXELS,
    OUTPUT_FORMATS,
    DecodedImage,
    decode_image,
    encode_image,
    encode_image_within,
)
from .options import StylizeOptions
from .pipeline import StylizeResult, stylize_bytes, stylize_pixels
from .registry import StyleRegistry
from .stylizer import WHOLE_IMAGE_PIXELS, Stylizer, available_cpus

__all__ = [
    "BlendAcrossNetworks",
    "InvalidBlend",
    "DEFAULT_MAX_INPUT_PIXELS",
    "WHOLE_IMAGE_PIXELS",
    "OUTPUT_FORMATS",
    "DecodedImage",
    "ImageTooLarge",
    "InvalidImage",
    "InvalidParameter",
    "ResultTooLarge",
    "StyleCoreError",
    "StyleRegistry",
    "Stylizer",
    "StylizeOptions",
    "StylizeResult",
    "UnknownStyle",
    "available_cpus",
    "decode_image",
    "encode_image",
    "encode_image_within",
    "stylize_bytes",
    "stylize_pixels",
]
