"""The models folder the e2e stack serves; prints its path.

The bundled styles (`models/*.onnx`, trained by our trainer) when the repository has them. Otherwise
two test styles, exported into OUT_DIR by our own exporter (`export.exporter.export_model`, what
`python -m export` runs) from fixed random networks, with the bundled paintings' names and thumbnails.

`--blend` makes a folder with one multi-style network instead ("e2e_pair": The Great Wave and The Starry
Night, random weights), for the blend test.

Run with the project's .venv: `.venv/bin/python frontend/e2e/make_models.py [--blend] OUT_DIR`.
"""

import contextlib
import io
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAINTINGS = REPO.parent / "shared" / "assets" / "styles"
TEST_STYLES = (
    ("great_wave", "The Great Wave off Kanagawa", "Katsushika Hokusai", "c. 1831", "great_wave.jpg", 1),
    ("starry_night", "The Starry Night", "Vincent van Gogh", "1889", "starry_night.jpg", 2),
)


def test_transformer(seed: int, num_styles: int = 1, width: int = 32):
    """A TransformerNet with fixed random weights whose output spans the pixel range (a fresh one
    returns values near 0: a black picture), so the result visibly depends on the photo. Several
    styles get different instance-norm scales and shifts, so that each looks different."""
    import torch

    from training.model import TransformerNet

    torch.manual_seed(seed)
    net = TransformerNet(num_styles, width).eval()
    with torch.no_grad():
        net.conv_out.conv.weight.mul_(40.0)
        net.conv_out.conv.bias.fill_(128.0)
        if num_styles > 1:
            for norm in net.norm_layers():
                norm.weight.normal_(1.0, 0.5)
                norm.bias.normal_(0.0, 0.5)
    return net


def painting_of(style) -> Path:
    painting = PAINTINGS / style[4]
    return painting if painting.is_file() else REPO / "sample_gallery" / "rocket.jpg"  # a checkout without ../shared


def export_blend_model(out: Path) -> Path:
    """One half-width network serving both test styles (style_weights), exported by our exporter."""
    import json

    import torch

    from export.exporter import ExportRequest, export_model

    out.mkdir(parents=True, exist_ok=True)
    catalog = out / "catalog.json"
    catalog.write_text(json.dumps({"styles": [{"id": s[0], "name": s[1], "artist": s[2], "year": s[3]}
                                              for s in TEST_STYLES]}))
    checkpoint = out / "e2e_pair.pth"
    torch.save({"model": test_transformer(3, len(TEST_STYLES), 16).state_dict(), "step": 0,
                "config": {"style_ids": [s[0] for s in TEST_STYLES], "style_images": [str(painting_of(s))
                                                                                     for s in TEST_STYLES]}},
               checkpoint)
    with contextlib.redirect_stdout(io.StringIO()):
        export_model(ExportRequest(checkpoint=str(checkpoint), out=str(out / "e2e_pair.onnx"), name="Test pair",
                                   style_license="public domain", catalog=str(catalog), parity_sizes=((32, 32),)),
                     echo=lambda *args: None)
    checkpoint.unlink()
    catalog.unlink()
    return out


def export_test_models(out: Path) -> Path:
    warnings.filterwarnings("ignore", category=UserWarning)  # the TorchScript exporter's constant-folding notes
    import torch

    from export.exporter import ExportRequest, export_model

    out.mkdir(parents=True, exist_ok=True)
    for style in TEST_STYLES:
        style_id, name, artist, year, _, seed = style
        painting = painting_of(style)
        checkpoint = out / f"{style_id}.pth"
        torch.save({"model": test_transformer(seed).state_dict(),
                    "config": {"style_image": str(painting), "vgg_weights": "random"}, "step": 0}, checkpoint)
        with contextlib.redirect_stdout(io.StringIO()):  # stdout carries only the folder's path
            export_model(ExportRequest(checkpoint=str(checkpoint), out=str(out / f"{style_id}.onnx"), name=name,
                                       artist=artist, year=year, style_license="public domain",
                                       parity_sizes=((32, 32),)), echo=lambda *args: None)
        checkpoint.unlink()
    return out


def main(*args: str):
    if args[0] == "--blend":
        print(export_blend_model(Path(args[1])))
        return
    bundled = REPO / "models"
    print(bundled if any(bundled.glob("*.onnx")) else export_test_models(Path(args[0])))


if __name__ == "__main__":
    main(*sys.argv[1:])
