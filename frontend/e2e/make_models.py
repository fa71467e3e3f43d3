"""The models folder the e2e stack serves; prints its path.

The bundled styles (`models/*.onnx`, trained by our trainer) when the repository has them. Otherwise
two test styles, exported into OUT_DIR by our own exporter (`export.exporter.export_model`, what
`python -m export` runs) from fixed random networks, with the bundled paintings' names and thumbnails.

Run with the project's .venv: `.venv/bin/python frontend/e2e/make_models.py OUT_DIR`.
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


def test_transformer(seed: int):
    """A TransformerNet with fixed random weights whose output spans the pixel range (a fresh one
    returns values near 0: a black picture), so the result visibly depends on the photo."""
    import torch

    from training.model import TransformerNet

    torch.manual_seed(seed)
    net = TransformerNet().eval()
    with torch.no_grad():
        net.conv_out.conv.weight.mul_(40.0)
        net.conv_out.conv.bias.fill_(128.0)
    return net


def export_test_models(out: Path) -> Path:
    warnings.filterwarnings("ignore", category=UserWarning)  # the TorchScript exporter's constant-folding notes
    import torch

    from export.exporter import ExportRequest, export_model

    out.mkdir(parents=True, exist_ok=True)
    for style_id, name, artist, year, painting_file, seed in TEST_STYLES:
        painting = PAINTINGS / painting_file
        if not painting.is_file():  # a checkout without ../shared: a sample photo stands in for the thumbnail
            painting = REPO / "sample_gallery" / "rocket.jpg"
        checkpoint = out / f"{style_id}.pth"
        torch.save({"model": test_transformer(seed).state_dict(),
                    "config": {"style_image": str(painting), "vgg_weights": "random"}, "step": 0}, checkpoint)
        with contextlib.redirect_stdout(io.StringIO()):  # stdout carries only the folder's path
            export_model(ExportRequest(checkpoint=str(checkpoint), out=str(out / f"{style_id}.onnx"), name=name,
                                       artist=artist, year=year, style_license="public domain",
                                       parity_sizes=((32, 32),)), echo=lambda *args: None)
        checkpoint.unlink()
    return out


def main(out_dir: str):
    bundled = REPO / "models"
    print(bundled if any(bundled.glob("*.onnx")) else export_test_models(Path(out_dir)))


if __name__ == "__main__":
    main(*sys.argv[1:])
