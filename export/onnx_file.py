"""TransformerNet -> one self-contained ONNX file: dynamic batch, height and width, metadata inside."""

import copy
import io
import json
import warnings

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from stylecore.modelfiles import (
    ANTIALIAS_METADATA_KEY,
    INPUT,
    INPUT_NAMES,
    NORM_STATS_MIX_INPUT,
    NORM_STATS_OUTPUT,
    NORM_STATS_OVERRIDE_INPUT,
    OUTPUT,
    OUTPUT_NAMES,
    PIXEL_RANGE_TEXT,
    STYLE_WEIGHTS_INPUT,
    STYLES_METADATA_KEY,
)

from training.model import TransformerNet

from .halfres import HalfResTransformer
from .network import ExportableTransformer

OPSET = 17
EXPORTER_VERSION = "1"
NORM_STATS_DOC = (f"output {NORM_STATS_OUTPUT} (N, 2, C): each instance-norm layer's per-channel mean and variance; "
                  f"inputs {NORM_STATS_OVERRIDE_INPUT} (2, C) and {NORM_STATS_MIX_INPUT} (scalar, default 0; "
                  "1 = use the override)")


def exporter_version() -> str:
    return f"fast-neural-style export v{EXPORTER_VERSION} (torch {torch.__version__}, onnx {onnx.__version__})"


def to_onnx(net: TransformerNet, metadata: dict | None = None, style_ids: list | None = None,
            halfres: bool = False) -> onnx.ModelProto:
    """Trace the network (the legacy TorchScript exporter: no onnxscript needed) into an ONNX model.

    A multi-style network gets one more input, STYLE_WEIGHTS_INPUT (S,): the convex mix of its styles
    (one-hot for one style; its default is the first style), and lists `style_ids` in its metadata.
    halfres: its full-resolution layers computed at half resolution (export/halfres.py), same interface.
    """
    wrapper = HalfResTransformer if halfres else ExportableTransformer
    model = wrapper(copy.deepcopy(net).float()).eval()
    channels = model.norm_channels
    multi = net.num_styles > 1
    if multi and (not style_ids or len(style_ids) != net.num_styles):
        raise ValueError(f"a {net.num_styles}-style network needs its {net.num_styles} style ids")
    example = (torch.rand(1, 3, 64, 64) * 255, torch.zeros(2, channels), torch.tensor(0.0))
    if multi:
        example += (torch.eye(net.num_styles)[0],)
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # The legacy exporter is deliberate (no onnxscript needed; same speed, see the README), and the
        # constant-folding note concerns the norm-statistics slices, which are cheap by design.
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1", category=UserWarning)
        torch.onnx.export(
            model, example, buffer, dynamo=False, opset_version=OPSET, do_constant_folding=True,
            input_names=list(INPUT_NAMES) + ([STYLE_WEIGHTS_INPUT] if multi else []),
            output_names=list(OUTPUT_NAMES),
            dynamic_axes={INPUT: {0: "batch", 2: "height", 3: "width"},
                          OUTPUT: {0: "batch", 2: "height", 3: "width"},
                          NORM_STATS_OUTPUT: {0: "batch"}},
        )
    proto = onnx.load_from_string(buffer.getvalue())
    inline_shared_weights(proto)
    # Defaults for the override inputs: an initializer named like an input is that input's default
    # value, so a caller that feeds only "input" gets the plain network.
    proto.graph.initializer.extend([
        numpy_helper.from_array(np.zeros((2, channels), np.float32), NORM_STATS_OVERRIDE_INPUT),
        numpy_helper.from_array(np.array(0.0, np.float32), NORM_STATS_MIX_INPUT),
    ])
    if multi:
        proto.graph.initializer.append(numpy_helper.from_array(np.eye(net.num_styles, dtype=np.float32)[0],
                                                               STYLE_WEIGHTS_INPUT))
        metadata = {STYLES_METADATA_KEY: json.dumps(list(style_ids)), **(metadata or {})}
    proto.producer_name = "fast-neural-style"
    proto.producer_version = EXPORTER_VERSION
    proto.doc_string = "Fast neural style transformer network (Johnson et al. 2016). " + PIXEL_RANGE_TEXT
    if net.antialias:
        metadata = {ANTIALIAS_METADATA_KEY: "true", **(metadata or {})}
    set_metadata(proto, {"pixel_range": PIXEL_RANGE_TEXT, "norm_stats": NORM_STATS_DOC,
                         "exporter": exporter_version(), **(metadata or {})})
    onnx.checker.check_model(proto, full_check=True)
    return proto


def inline_shared_weights(proto: onnx.ModelProto):
    """Undo the exporter's de-duplication of equal weights (Identity nodes reading one initializer).

    Freshly initialised instance norms all have weight 1 and bias 0, so the exporter shares one copy;
    onnxruntime 1.32's graph optimiser then drops the Identity nodes and loses the names they defined.
    A copy per use costs a few kilobytes at most.
    """
    graph = proto.graph
    initializers = {init.name: init for init in graph.initializer}
    kept = []
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in initializers:
            copy_ = onnx.TensorProto()
            copy_.CopyFrom(initializers[node.input[0]])
            copy_.name = node.output[0]
            graph.initializer.append(copy_)
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)


def set_metadata(proto: onnx.ModelProto, metadata: dict):
    """metadata_props are strings: other values are stored as JSON."""
    existing = {p.key: p for p in proto.metadata_props}
    for key, value in metadata.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if key in existing:
            existing[key].value = text
        else:
            proto.metadata_props.add(key=key, value=text)


def read_metadata(proto: onnx.ModelProto) -> dict:
    return {p.key: p.value for p in proto.metadata_props}


def save(proto: onnx.ModelProto, path) -> int:
    """A single file, weights included (no external data sidecar). Returns its size in bytes."""
    data = proto.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    return len(data)
