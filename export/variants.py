"""Smaller or faster copies of an exported model: fp16 weights, and int8 static QDQ quantisation.

fp16: the weights are stored in half precision and cast back to float32 when the session loads
(onnxruntime's CPU kernels compute convolutions in float32 anyway), so the file halves and the
speed stays that of fp32.

int8: static QDQ, activations calibrated on a folder of photos. Only convolutions are quantised;
the instance norms stay in float32 (they are what keeps tiles matching), and so do the first and
last convolutions: the first sees raw pixels, the last writes them, and both are where 8 bits
show most (the last one also costs memory when quantised).
"""

import contextlib
import copy
import io
import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from stylecore.modelfiles import INPUT, STYLE_WEIGHTS_INPUT

from training.data import find_images

log = logging.getLogger(__name__)

INT8_DEFAULTS = {"calibration_count": 32, "calibration_side": 384, "method": "percentile", "percentile": 99.999,
                 "keep_first_last_fp32": True, "reduce_range": True, "per_channel": True}


def to_fp16_weights(proto: onnx.ModelProto) -> onnx.ModelProto:
    """Every float32 weight stored as float16, with a Cast back to float32 that the session folds away."""
    model = copy.deepcopy(proto)
    graph = model.graph
    inputs = {i.name for i in graph.input}
    kept, casts = [], []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or init.name in inputs:
            kept.append(init)  # the norm-stats defaults are inputs: they stay float32
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "__fp16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                      name=f"{init.name}__cast_fp32"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model, full_check=True)
    return model


def calibration_images(folder, count: int, side: int) -> list:
    """Up to `count` photos spread over the folder, each scaled to `side` pixels on its longest side."""
    paths = find_images(folder)
    step = max(1, len(paths) // count)
    images = []
    for path in paths[::step][:count]:
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
            images.append(np.asarray(image, np.float32).transpose(2, 0, 1)[None].copy())
    return images


class PhotoReader:
    """onnxruntime's CalibrationDataReader protocol: one feed dict per call, None at the end.

    A multi-style network sees each photo in the next of its styles, so every style's activations
    set the ranges, not only the first style's."""

    def __init__(self, images: list, num_styles: int = 1):
        eye = np.eye(num_styles, dtype=np.float32)
        self._feeds = iter({INPUT: image, **({STYLE_WEIGHTS_INPUT: eye[i % num_styles]} if num_styles > 1 else {})}
                           for i, image in enumerate(images))

    def get_next(self):
        return next(self._feeds, None)


@contextlib.contextmanager
def quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def style_count(proto: onnx.ModelProto) -> int:
    """How many styles a network file serves: the length of its style_weights input's default, else 1."""
    for init in proto.graph.initializer:
        if init.name == STYLE_WEIGHTS_INPUT:
            return int(init.dims[0])
    return 1


def conv_node_names(proto: onnx.ModelProto) -> list:
    return [node.name for node in proto.graph.node if node.op_type == "Conv"]


def to_int8(proto: onnx.ModelProto, calibration_folder, **options) -> onnx.ModelProto:
    """Static QDQ quantisation of the convolutions, calibrated on photos; options as INT8_DEFAULTS."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    unknown = set(options) - set(INT8_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown int8 options: {', '.join(sorted(unknown))}")
    o = {**INT8_DEFAULTS, **options}
    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    if o["method"] not in methods:
        raise ValueError(f"calibration method must be one of {', '.join(methods)}")
    images = calibration_images(calibration_folder, o["calibration_count"], o["calibration_side"])
    convs = conv_node_names(proto)
    exclude = [convs[0], convs[-1]] if o["keep_first_last_fp32"] else []
    extra = {"CalibPercentile": o["percentile"]} if o["method"] == "percentile" else {}
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(proto, source)
        # onnxruntime's quantiser prints its progress and a pre-processing hint; keep the export's output readable.
        with contextlib.redirect_stdout(io.StringIO()), quiet_root_logger():
            quantize_static(str(source), str(target), PhotoReader(images, style_count(proto)),
                            quant_format=QuantFormat.QDQ,
                            op_types_to_quantize=["Conv"], per_channel=o["per_channel"], reduce_range=o["reduce_range"],
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            calibrate_method=methods[o["method"]], nodes_to_exclude=exclude, extra_options=extra)
        model = onnx.load(target)
    # quantize_static keeps the graph's inputs and metadata; make sure the metadata says what this is.
    onnx.checker.check_model(model, full_check=True)
    return model
