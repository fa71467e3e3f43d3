"""Training throughput: our training loop against a plain fp32 loop written the way
pytorch/examples `fast_neural_style` trains (same network, same losses), in the same run.

    .venv/bin/python benchmarks/train_throughput.py [--device cpu|cuda] [--batch-size 4] [--steps 6]
        [--width 16] [--image-size 128]

The defaults are the bundled network's recipe (half width, 128-px crops); --width 32 --image-size 256 is
the paper's. Both loops train the same network on the same photos.

Prints a table of images/s and the ratio to the plain loop. Not a test: numbers depend on the machine.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.data import PhotoDataset, load_style_image  # noqa: E402
from training.losses import gram_matrix  # noqa: E402
from training.model import HALF_WIDTH, TransformerNet  # noqa: E402
from training.train import TrainConfig, native_bf16, train  # noqa: E402
from training.vgg import STYLE_LAYERS, load_loss_network  # noqa: E402

SHARED = ROOT.parent / "shared" / "assets"


def plain_loop(args, device) -> list:
    """pytorch/examples fast_neural_style/neural_style.py, train(): fp32, NCHW, the whole loss network
    run on both the content batch and the output, MSE content loss at relu2_2, Gram style loss."""
    dataset = PhotoDataset(args.dataset, args.image_size, augment=False)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True)
    transformer = TransformerNet(width=args.width).to(device)
    optimizer = torch.optim.Adam(transformer.parameters(), 1e-3)
    mse = torch.nn.MSELoss()
    vgg = load_loss_network(args.vgg_weights).to(device)
    style = load_style_image(args.style_image, 512).to(device).unsqueeze(0)
    gram_style = [gram_matrix(f) for f in vgg(style, STYLE_LAYERS).values()]
    times = []
    for batch_id, x in enumerate(loader):
        if batch_id >= args.warmup + args.steps:
            break
        start = time.perf_counter()
        n_batch = len(x)
        optimizer.zero_grad()
        x = x.to(device)
        y = transformer(x)
        features_y = vgg(y, STYLE_LAYERS)
        features_x = vgg(x, STYLE_LAYERS)
        content_loss = 1.0 * mse(features_y["relu2_2"], features_x["relu2_2"])
        style_loss = 0.0
        for ft_y, gm_s in zip(features_y.values(), gram_style, strict=True):
            gm_y = gram_matrix(ft_y)
            style_loss += mse(gm_y, gm_s[:n_batch, :, :])
        total_loss = content_loss + 5.0 * style_loss
        total_loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if batch_id >= args.warmup:
            times.append(time.perf_counter() - start)
    return [args.batch_size / t for t in times]


def our_loop(args, device, **options) -> list:
    """Our real training loop (training.train), images/s as it logs them, after the warm-up steps."""
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(dataset=args.dataset, style_images=[args.style_image], out=out,
                             iterations=args.warmup + args.steps, batch_size=args.batch_size,
                             image_size=args.image_size, width=args.width, vgg_weights=args.vgg_weights,
                             device=device.type,
                             workers=args.workers, log_every=1, sample_every=10**9, checkpoint_every=10**9,
                             **options)
        train(config)
        records = [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]
    return [r["images_per_s"] for r in records[args.warmup:]]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dataset", default=str(SHARED / "photos" / "train"))
    parser.add_argument("--style-image", default=str(SHARED / "styles" / "great_wave.jpg"))
    default_weights = ROOT / "weights" / "vgg16-caffe.pth"
    parser.add_argument("--vgg-weights", default=str(default_weights) if default_weights.exists() else "random")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--width", type=int, default=HALF_WIDTH, help="transformer width (Table 1: 32)")
    parser.add_argument("--steps", type=int, default=6, help="measured steps per variant")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    device = torch.device(args.device)

    variants = [("plain fp32 loop (pytorch/examples)", lambda: plain_loop(args, device)),
                ("ours: channels-last, fp32", lambda: our_loop(args, device, precision="off"))]
    if not args.no_compile:
        variants.append(("ours: channels-last, fp32, compile",
                         lambda: our_loop(args, device, precision="off", compile=True)))
    if native_bf16(device):
        variants.append(("ours: channels-last, bf16", lambda: our_loop(args, device, precision="bf16")))
        if not args.no_compile:
            variants.append(("ours: channels-last, bf16, compile",
                             lambda: our_loop(args, device, precision="bf16", compile=True)))
    else:
        print(f"(bf16 left out: {device} has no native bf16, where autocast to bf16 is far slower than fp32)")

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}; width {args.width}, batch {args.batch_size} at "
          f"{args.image_size}px; "
          f"median of {args.steps} steps after {args.warmup} warm-up steps\n")
    print(f"{'variant':40s} {'images/s':>10s} {'s/step':>8s} {'vs plain':>9s}")
    baseline = None
    for label, run in variants:
        rate = statistics.median(run())
        baseline = baseline or rate
        print(f"{label:40s} {rate:10.2f} {args.batch_size / rate:8.2f} {rate / baseline:8.2f}x", flush=True)


if __name__ == "__main__":
    main()
