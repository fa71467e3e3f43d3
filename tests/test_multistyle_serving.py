"""A multi-style network from export to the API: one file and one session for several styles, and blends."""

import json
import shutil

import numpy as np
import onnx
import pytest
import stylecore
import torch
from api_helpers import assert_contract, http_event, image_bytes, invoke, load_handler
from synthetic import synthetic_photo

from export.exporter import ExportRequest, export_model
from training.checkpoint import read_weights
from training.model import TransformerNet, load_transformer

STYLES = ["trio_x", "trio_y", "trio_z"]


def trio_network() -> TransformerNet:
    """Three styles that differ visibly: random gammas and betas, and an output spread over the pixel range."""
    torch.manual_seed(11)
    net = TransformerNet(num_styles=3, width=8).eval()
    with torch.no_grad():
        for norm in net.norm_layers():
            norm.weight.normal_(1.0, 0.5)
            norm.bias.normal_(0.0, 0.5)
        net.conv_out.conv.weight.mul_(40.0)
        net.conv_out.conv.bias.fill_(128.0)
    return net


@pytest.fixture(scope="module")
def trio(tmp_path_factory, onnx_models_dir):
    """models/: the multi-style network "trio" (fp32 and int8) beside the single-style test_a."""
    root = tmp_path_factory.mktemp("trio")
    models, photos = root / "models", root / "photos"
    models.mkdir()
    photos.mkdir()
    for i in range(4):
        synthetic_photo(48, 40, seed=50 + i).save(photos / f"p{i}.jpg")
    paintings = []
    for i, style_id in enumerate(STYLES):
        paintings.append(str(root / f"{style_id}.png"))
        synthetic_photo(64, 48, seed=60 + i).save(paintings[-1])
    checkpoint = root / "trio.pth"
    torch.save({"model": trio_network().state_dict(), "step": 5,
                "config": {"style_ids": STYLES, "style_images": paintings, "vgg_weights": "random", "style_size": 48}},
               checkpoint)
    catalog = root / "catalog.json"
    catalog.write_text(json.dumps({"styles": [{"id": "trio_y", "name": "Painting Y", "artist": "Artist Y",
                                               "year": "1901"}]}))
    card = export_model(ExportRequest(checkpoint=str(checkpoint), out=str(models / "trio.onnx"), name="Trio",
                                      style_license="public domain", catalog=str(catalog), int8=True,
                                      calibration_photos=str(photos), eval_size=40,
                                      parity_sizes=((32, 32), (21, 37))), echo=lambda *a: None)
    for name in ("test_a.onnx", "test_a.json"):
        shutil.copy(onnx_models_dir / name, models / name)
    return {"models": models, "card": card, "checkpoint": checkpoint, "photos": photos}


def photo(seed=1) -> np.ndarray:
    return np.asarray(synthetic_photo(40, 32, seed=seed), np.float32)


def test_one_file_lists_its_styles_and_takes_style_weights(trio):
    proto = onnx.load(trio["models"] / "trio.onnx")
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["styles"]) == STYLES
    inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in proto.graph.input}
    assert inputs["style_weights"] == [3]
    card = trio["card"]
    assert [(s["id"], s["index"]) for s in card["styles"]] == list(zip(STYLES, range(3), strict=True))
    assert card["styles"][1]["name"] == "Painting Y" and card["styles"][1]["year"] == 1901
    assert all(s["thumbnail"].startswith("data:image/jpeg;base64,") for s in card["styles"])
    mixes = {row.get("style_weights") for row in card["parity"]}
    assert {"1,0,0", "0,1,0", "0,0,1", "0.6,0.4,0"} <= mixes  # each style, and one blend
    assert card["variants"]["int8"]["psnr_vs_fp32_db"] > 25


def test_each_style_matches_pytorch_and_the_default_is_the_first(trio):
    net = load_transformer(torch.load(trio["checkpoint"], weights_only=False)["model"])
    stylizer = stylecore.Stylizer.from_file(trio["models"] / "trio.onnx")
    rgb = photo()
    x = torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None]
    outputs = []
    for k, style_id in enumerate(STYLES):
        with torch.no_grad():
            expected = net(x, torch.tensor([k]))[0].numpy().transpose(1, 2, 0)
        got = stylizer.for_style(style_id).stylize(rgb)
        assert np.abs(got - expected).max() < 0.5
        outputs.append(got)
    assert np.array_equal(stylizer.stylize(rgb), outputs[0])
    assert np.abs(outputs[0] - outputs[1]).mean() > 5  # the styles differ


def test_blend_weights_one_and_zero_reproduce_the_pure_styles(trio):
    registry = stylecore.StyleRegistry.from_dir(trio["models"])
    rgb = photo(2)
    x, y = registry.get("trio_x").stylize(rgb), registry.get("trio_y").stylize(rgb)
    assert np.array_equal(registry.blend([("trio_x", 1), ("trio_y", 0)]).stylize(rgb), x)
    assert np.array_equal(registry.blend([("trio_x", 0), ("trio_y", 3)]).stylize(rgb), y)
    half = registry.blend([("trio_x", 1), ("trio_y", 1)])
    assert half.style_weights.tolist() == [0.5, 0.5, 0.0]
    mixed = half.stylize(rgb)
    assert np.abs(mixed - x).mean() > 1 and np.abs(mixed - y).mean() > 1


def test_one_session_per_network_file_and_the_listing(trio):
    registry = stylecore.StyleRegistry.from_dir(trio["models"])
    assert registry.get("trio_x").session is registry.get("trio_z").session
    listed = {s["id"]: s for s in registry.list_styles()}
    assert sorted(listed) == ["test_a", *STYLES]
    assert listed["trio_y"]["network"] == "trio" and listed["trio_y"]["blendable"] is True
    assert listed["trio_y"]["artist"] == "Artist Y"
    assert listed["test_a"]["network"] == "test_a" and listed["test_a"]["blendable"] is False
    assert "styles" not in listed["trio_x"] and "training" not in listed["trio_x"]


@pytest.mark.parametrize("parts,error", [
    ([("trio_x", 1)], stylecore.InvalidBlend),
    ([("trio_x", 1), ("trio_y", 1), ("trio_z", 1), ("trio_x", 1), ("trio_y", 1)], stylecore.InvalidBlend),
    ([("trio_x", 1), ("trio_x", 1)], stylecore.InvalidBlend),
    ([("trio_x", -0.1), ("trio_y", 1)], stylecore.InvalidBlend),
    ([("trio_x", 0), ("trio_y", 0)], stylecore.InvalidBlend),
    ([("trio_x", float("nan")), ("trio_y", 1)], stylecore.InvalidBlend),
    ([("trio_x", 1), ("test_a", 1)], stylecore.BlendAcrossNetworks),
    ([("trio_x", 1), ("van_gogh", 1)], stylecore.UnknownStyle),
])
def test_blends_that_cannot_run_are_refused(trio, parts, error):
    with pytest.raises(error):
        stylecore.StyleRegistry.from_dir(trio["models"]).blend(parts)


@pytest.fixture(scope="module")
def handler(trio):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELS_DIR", str(trio["models"]))
        patch.setenv("MODELS_VARIANT", "int8")
        yield load_handler("lambda_inference")


def post(handler, body):
    status, headers, payload = invoke(handler, http_event("POST", "/stylize", body))
    assert_contract("/stylize", "POST", status, headers, payload)
    return status, payload


def test_the_api_blends_and_says_what_it_ran(handler):
    import base64

    status, headers, body = invoke(handler, http_event("GET", "/styles"))
    assert_contract("/styles", "GET", status, headers, body)
    assert {s["id"]: s["blendable"] for s in body["styles"]} == {"test_a": False, "trio_x": True, "trio_y": True,
                                                                 "trio_z": True}
    image = base64.b64encode(image_bytes(48, 36)).decode()
    status, payload = post(handler, {"image": image, "blend": [{"style": "trio_x", "weight": 3},
                                                               {"style": "trio_z", "weight": 1}], "strength": 0.9})
    assert status == 200, payload
    assert payload["style"] == "trio_x+trio_z"
    assert payload["blend"] == [{"style": "trio_x", "weight": 0.75}, {"style": "trio_z", "weight": 0.25}]


@pytest.mark.parametrize("blend,status,code", [
    ([{"style": "trio_x", "weight": 1}, {"style": "test_a", "weight": 1}], 400, "blend_across_networks"),
    ([{"style": "trio_x", "weight": 1}, {"style": "nope", "weight": 1}], 404, "unknown_style"),
    ([{"style": "trio_x", "weight": -1}, {"style": "trio_y", "weight": 1}], 400, "invalid_blend"),
    ([{"style": "trio_x", "weight": 0}, {"style": "trio_y", "weight": 0}], 400, "invalid_blend"),
    ([{"style": s, "weight": 1} for s in ["trio_x", "trio_y", "trio_z", "test_a", "trio_x"]], 400, "invalid_blend"),
    ([{"style": "trio_x"}, {"style": "trio_y", "weight": 1}], 400, "invalid_request"),
    ([{"style": "trio_x", "weight": "1"}, {"style": "trio_y", "weight": 1}], 400, "invalid_request"),
    ("trio_x", 400, "invalid_request"),
])
def test_bad_blends_get_their_documented_4xx(handler, blend, status, code):
    import base64

    body = {"image": base64.b64encode(image_bytes(16, 16)).decode(), "blend": blend}
    got, payload = post(handler, body)
    assert (got, payload["error"]["code"]) == (status, code), payload
    got, payload = post(handler, {**body, "style": "trio_x"})  # style and blend both: one of the two
    assert (got, payload["error"]["code"]) == (400, "invalid_request")


def test_the_cli_blends(trio, tmp_path):
    from stylecore.cli import main

    source = tmp_path / "photo.png"
    synthetic_photo(40, 30, seed=4).save(source)
    assert main([str(source), "--models", str(trio["models"]), "--blend", "trio_x=0.6,trio_y=0.4",
                 "--out", str(tmp_path / "out"), "--format", "png"]) == 0
    assert (tmp_path / "out" / "photo.trio_x+trio_y.png").is_file()
    assert main([str(source), "--models", str(trio["models"]), "--blend", "trio_x=0.6,test_a=0.4",
                 "--out", str(tmp_path / "out")]) == 2


def test_init_from_reads_the_committed_onnx_file_back(trio):
    state, ids = read_weights(trio["models"] / "trio.onnx")
    original = trio_network().state_dict()
    assert ids == STYLES and set(state) == set(original)
    assert all(torch.allclose(state[k], original[k]) for k in original)
    with pytest.raises(ValueError, match="cannot be read back"):
        read_weights(trio["models"] / "trio.int8.onnx")


def test_evaluate_scores_one_style_of_the_onnx_file(trio):
    from training.evaluate import evaluate

    y = evaluate(trio["models"] / "trio.onnx", trio["photos"], style="trio_y", vgg_weights="random")
    z = evaluate(trio["models"] / "trio.onnx", trio["photos"], style="trio_z", vgg_weights="random")
    assert y["style_image"].endswith("trio_y.png") and z["style_image"].endswith("trio_z.png")
    assert y["content"] != z["content"]


def test_a_checkpoint_from_before_conditional_norm_still_exports(tmp_path, onnx_models_dir):
    net = TransformerNet(width=8).eval()
    old = {k: (v[0] if v.dim() == 2 else v) for k, v in net.state_dict().items()}  # norms were [C]
    painting = tmp_path / "p.png"
    synthetic_photo(40, 40, seed=1).save(painting)
    torch.save({"model": old, "config": {"style_image": str(painting)}, "step": 1}, tmp_path / "old.pth")
    card = export_model(ExportRequest(checkpoint=str(tmp_path / "old.pth"), out=str(tmp_path / "old.onnx"),
                                      parity_sizes=((24, 24),)), echo=lambda *a: None)
    assert card["id"] == "old" and "styles" not in card
    assert "style_weights" not in {i.name for i in stylecore.Stylizer.from_file(tmp_path / "old.onnx").session
                                   .get_inputs()}
