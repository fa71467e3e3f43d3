"""What a smaller network would buy for the speed goal (6x over the Table 1 network in PyTorch eager at
1024x1024, 2 threads): the served layout (the `halfres` variant, export/halfres.py) of the nine-style network
at several widths, random weights, against Table 1 in PyTorch eager and the served file, in the same run.

    .venv/bin/python benchmarks/network_width.py [--widths 16 12 8] [--size 1024x1024] [--threads 2]

Width 16 is the bundled network's (half of Table 1's 32). A narrower network must be trained anew, so this
sizes that choice before any compute is spent on it. Not a test: compare rows of one run. Pause other heavy
jobs first.
"""

import argparse

from inference_common import ARTIFACTS, ROOT, bundled_served_model, machine, save_random_table1
from inference_latency import measure_in_turns, parse_size


def random_models(widths) -> dict:
    """A random Table 1 checkpoint, and the halfres ONNX file of the nine-style network at each width (cached)."""
    import json

    import torch

    from export.onnx_file import save, to_onnx
    from training.model import TransformerNet

    folder = ARTIFACTS / "network-width"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"table1": folder / "table1.pth"}
    save_random_table1(paths["table1"])
    styles = [s["id"] for s in json.loads((ROOT / "scripts" / "bundled_styles.json").read_text())["styles"]]
    for width in widths:
        paths[width] = folder / f"bundled-w{width}.halfres.onnx"
        if not paths[width].is_file():
            torch.manual_seed(0)
            save(to_onnx(TransformerNet(len(styles), width).eval(), style_ids=styles, halfres=True), paths[width])
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 12, 8])
    parser.add_argument("--size", type=parse_size, default=(1024, 1024))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="every row this many times, in turns")
    args = parser.parse_args()
    (width, height), threads = args.size, args.threads
    models = random_models(args.widths)
    paths = {"checkpoint": models["table1"], "bundled": bundled_served_model(),
             **{f"w{w}": models[w] for w in args.widths}}
    names = ["pytorch", "bundled served", *(f"onnx w{w}" for w in args.widths)]
    print(f"machine: {machine()}; {width}x{height}, {threads} threads, median of {args.rounds} rounds in turns")
    results = measure_in_turns(names, paths, width, height, threads, args.repeats, args.rounds)
    eager = results["pytorch"]["median_s"]
    labels = {"pytorch": "Table 1, PyTorch eager (random)", "bundled served": f"served: {paths['bundled'].name}",
              **{f"onnx w{w}": f"width {w}, nine styles, halfres (random)" for w in args.widths}}
    for name, r in results.items():
        rounds = " ".join(f"{t:.3f}" for t in r["round_medians"])
        print(f"{labels[name]:<40} {r['median_s']:>7.3f} s  {eager / r['median_s']:>6.2f}x   rounds: {rounds}")


if __name__ == "__main__":
    main()
