import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from training.convert_vgg import convert
from training.vgg import WeightsError, expected_shapes, load_loss_network, save_weights


def keras_vgg16_onnx(path, blocks=4, break_layer=None, seed=0):
    """A tf2onnx-like Keras VGG16 graph: NHWC input, Transpose, then Conv/Relu(/MaxPool) nodes whose
    weights are named like `functional_1/blockB_convC_1/convolution/ReadVariableOp:0`."""
    rng = np.random.default_rng(seed)
    nodes = [helper.make_node("Transpose", ["input"], ["x0"], perm=[0, 3, 1, 2])]
    inits, arrays, previous, counter = [], {}, "x0", 0
    for name, shape in expected_shapes().items():
        if not name.endswith(".weight") or int(name[4]) > blocks:
            continue
        layer = name.split(".")[0]  # conv2_1
        block, conv = layer[4], layer[6]
        keras = f"functional_1/block{block}_conv{conv}_1"
        if layer == break_layer:
            shape = (shape[0] // 2, *shape[1:])
        weight = rng.standard_normal(shape).astype(np.float32)
        bias = rng.standard_normal(shape[0]).astype(np.float32)
        arrays[layer] = (weight, bias)
        inits += [numpy_helper.from_array(weight, f"{keras}/convolution/ReadVariableOp:0"),
                  numpy_helper.from_array(bias, f"{keras}/Squeeze:0")]
        counter += 1
        nodes.append(helper.make_node("Conv", [previous, f"{keras}/convolution/ReadVariableOp:0", f"{keras}/Squeeze:0"],
                                      [f"c{counter}"], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{counter}"], [f"r{counter}"]))
        previous = f"r{counter}"
    graph = helper.make_graph(nodes, "vgg", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 32, 32, 3])],
                              [helper.make_tensor_value_info(previous, TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(graph), str(path))
    return arrays


def test_converter_takes_the_trunk_and_records_caffe_preprocessing(tmp_path):
    arrays = keras_vgg16_onnx(tmp_path / "keras.onnx", blocks=5)
    convert(tmp_path / "keras.onnx", tmp_path / "vgg.pth")
    saved = torch.load(tmp_path / "vgg.pth", weights_only=True)
    assert saved["preprocessing"] == "caffe"
    assert set(saved["state_dict"]) == set(expected_shapes())  # block 5 left out
    assert np.array_equal(saved["state_dict"]["conv3_2.weight"].numpy(), arrays["conv3_2"][0])
    assert np.array_equal(saved["state_dict"]["conv1_1.bias"].numpy(), arrays["conv1_1"][1])

    vgg = load_loss_network(str(tmp_path / "vgg.pth"))
    assert vgg.preprocessing.name == "caffe" and vgg.preprocessing.bgr
    assert torch.equal(vgg.layers["conv4_3"].weight, saved["state_dict"]["conv4_3.weight"])


def test_caffe_preprocessing_is_bgr_minus_mean():
    vgg = load_loss_network("random")  # random trunks use caffe preprocessing; only preprocess() is used
    rgb = torch.tensor([10.0, 20.0, 30.0]).view(1, 3, 1, 1)
    assert torch.allclose(vgg.preprocess(rgb).flatten(), torch.tensor([30 - 103.939, 20 - 116.779, 10 - 123.68]))


def test_torchvision_preprocessing_is_rgb_normalised(tmp_path):
    state = {k: torch.zeros(s) for k, s in expected_shapes().items()}
    save_weights(tmp_path / "tv.pth", state, "torchvision", "test")
    vgg = load_loss_network(str(tmp_path / "tv.pth"))
    rgb = torch.tensor([255.0, 0.0, 127.5]).view(1, 3, 1, 1)
    expected = torch.tensor([(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0.5 - 0.406) / 0.225])
    assert torch.allclose(vgg.preprocess(rgb).flatten(), expected, atol=1e-5)


def test_plain_torchvision_state_dict_is_accepted(tmp_path):
    indices = {"conv1_1": 0, "conv1_2": 2, "conv2_1": 5, "conv2_2": 7, "conv3_1": 10, "conv3_2": 12,
               "conv3_3": 14, "conv4_1": 17, "conv4_2": 19, "conv4_3": 21}
    state = {f"features.{indices[k.split('.')[0]]}.{k.split('.')[1]}": torch.full(s, 0.5)
             for k, s in expected_shapes().items()}
    torch.save(state, tmp_path / "vgg16-397923af.pth")
    vgg = load_loss_network(str(tmp_path / "vgg16-397923af.pth"))
    assert vgg.preprocessing.name == "torchvision"
    assert float(vgg.layers["conv2_2"].weight[0, 0, 0, 0]) == 0.5


def test_converter_refuses_wrong_shapes(tmp_path):
    keras_vgg16_onnx(tmp_path / "keras.onnx", break_layer="conv2_2")
    expected = r"conv2_2.weight has shape \(64, 128, 3, 3\), VGG16 needs \(128, 128, 3, 3\)"
    with pytest.raises(WeightsError, match=expected):
        convert(tmp_path / "keras.onnx", tmp_path / "vgg.pth")
    assert not (tmp_path / "vgg.pth").exists()


def test_converter_refuses_missing_layers(tmp_path):
    keras_vgg16_onnx(tmp_path / "keras.onnx", blocks=3)
    with pytest.raises(WeightsError, match="missing.*conv4_1"):
        convert(tmp_path / "keras.onnx", tmp_path / "vgg.pth")


def test_converter_refuses_other_files(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"\x00junk")
    with pytest.raises(WeightsError):
        convert(tmp_path / "junk.onnx", tmp_path / "vgg.pth")
    with pytest.raises(WeightsError, match="not found"):
        convert(tmp_path / "missing.onnx", tmp_path / "vgg.pth")


def test_weights_file_with_wrong_shapes_is_refused(tmp_path):
    state = {k: torch.zeros(s) for k, s in expected_shapes().items()}
    state["conv1_1.weight"] = torch.zeros(64, 1, 3, 3)
    torch.save({"format": "fnst-vgg16-trunk", "version": 1, "preprocessing": "caffe", "source": "x",
                "state_dict": state}, tmp_path / "bad.pth")
    with pytest.raises(WeightsError, match=r"conv1_1.weight has shape \(64, 1, 3, 3\)"):
        load_loss_network(str(tmp_path / "bad.pth"))


def test_missing_weights_file_is_refused(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_loss_network(str(tmp_path / "none.pth"))
