"""Inference latency and peak memory: PyTorch eager (the pytorch/examples way) against our ONNX
fp32 / fp16 / int8 models, at 512x512, 1024x1024 and 1920x1080, with 1 and 2 threads, in the same run.
The last row, "bundled served", is what the product serves: the file the registry serves for the bundled
multi-style network (half width; models/, else models/campaign/, else the same network with random
weights), against the Table 1 network in PyTorch eager (the speed goal: at least 6x at 1024x1024, 2 threads).

    .venv/bin/python benchmarks/inference_latency.py [--checkpoint runs/great_wave/final.pth]
        [--threads 1 2] [--sizes 512x512 1024x1024 1920x1080] [--repeats 3]

Each (implementation, size, threads) runs in a fresh process: one warm-up, then --repeats timed runs
of the network alone (no decode or encode). Peak RSS is that process's. With --rounds R every row is
measured R times, the implementations taking turns, and the median over rounds is reported: a shared VM's
speed drifts by 10-20% over minutes, and turns keep that drift out of the ratios. The speed goal:

    .venv/bin/python benchmarks/inference_latency.py --threads 2 --sizes 1024x1024 512x512 \
        --only pytorch "bundled served" --rounds 5

Not a test: the numbers depend on the machine, so compare rows of one run only. Pause other heavy jobs first.
"""

import argparse
import json
import statistics

from inference_common import bundled_served_model, default_checkpoint, machine, prepare_models, run_child

IMPLEMENTATIONS = ("pytorch", "onnx fp32", "onnx fp32 arena", "onnx fp16", "onnx int8", "bundled served",
                   "candidate")

TORCH_CHILD = """
import time, torch, numpy as np
from training.model import load_transformer
torch.set_num_threads({threads})
net = load_transformer(torch.load({checkpoint!r}, map_location="cpu", weights_only=False)["model"])
x = torch.from_numpy(np.random.default_rng(0).uniform(0, 255, (1, 3, {height}, {width})).astype(np.float32))
times = []
with torch.no_grad():
    for i in range({repeats} + 1):
        t = time.perf_counter(); net(x).clamp(0, 255); times.append(time.perf_counter() - t)
RESULT = {{"times": times[1:]}}
"""

ONNX_CHILD = """
import time, numpy as np
from stylecore import Stylizer
s = Stylizer.from_file({path!r}, threads={threads}, memory_arena={arena})
x = np.random.default_rng(0).uniform(0, 255, ({height}, {width}, 3)).astype(np.float32)
times = []
for i in range({repeats} + 1):
    t = time.perf_counter(); s.stylize_whole(x); times.append(time.perf_counter() - t)
RESULT = {{"times": times[1:]}}
"""


def parse_size(text):
    width, height = (int(v) for v in text.split("x"))
    return width, height


def child_code(name, paths, width, height, threads, repeats) -> str:
    if name == "pytorch":
        return TORCH_CHILD.format(checkpoint=str(paths["checkpoint"]), threads=threads, width=width, height=height,
                                  repeats=repeats)
    path = {"bundled served": paths["bundled"], "candidate": paths.get("candidate")}.get(name) or paths[name.split()[1]]
    return ONNX_CHILD.format(path=str(path), threads=threads, arena="arena" in name, width=width, height=height,
                             repeats=repeats)


def measure_in_turns(names, paths, width, height, threads, repeats, rounds) -> dict:
    """Each implementation once per round, in turn; per implementation the median of its rounds' medians."""
    runs = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            runs[name].append(run_child(child_code(name, paths, width, height, threads, repeats)))
    results = {}
    for name, done in runs.items():
        medians = [statistics.median(r["times"]) for r in done]
        results[name] = {"times": [t for r in done for t in r["times"]], "round_medians": medians,
                         "median_s": statistics.median(medians), "min_s": min(min(r["times"]) for r in done),
                         "peak_rss_mb": max(r["peak_rss_mb"] for r in done)}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="default: runs/great_wave's latest, else random weights")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sizes", type=parse_size, nargs="+", default=[(512, 512), (1024, 1024), (1920, 1080)])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1, help="measure every row this many times, in turns")
    parser.add_argument("--only", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS[:-1]))
    parser.add_argument("--candidate", help="an ONNX file that might be served (e.g. a network still in training), "
                        "measured as the row 'candidate' in the same turns")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    if ("candidate" in args.only) != bool(args.candidate):
        parser.error("--candidate FILE and --only ... candidate go together")
    checkpoint = args.checkpoint or default_checkpoint()
    paths = {**prepare_models(checkpoint), "bundled": bundled_served_model(), "candidate": args.candidate}
    print(f"machine: {machine()}")
    print(f"weights: {checkpoint or 'random (seed 0)'}; models in {paths['fp32'].parent}; "
          f"bundled served: {paths['bundled']}")
    print(f"{'size':>10} {'thr':>3}  {'implementation':<16} {'median s':>9} {'min s':>7} {'s/MP':>6} "
          f"{'vs torch':>8} {'peak RSS MB':>11}")
    rows = []
    for width, height in args.sizes:
        for threads in args.threads:
            baseline = None
            results = measure_in_turns(args.only, paths, width, height, threads, args.repeats, args.rounds)
            for name, r in results.items():
                baseline = r["median_s"] if name == "pytorch" else baseline
                ratio = f"{baseline / r['median_s']:.2f}x" if baseline else "-"
                megapixels = width * height / 1e6
                print(f"{width}x{height:<5} {threads:>3}  {name:<16} {r['median_s']:>9.3f} {r['min_s']:>7.3f} "
                      f"{r['median_s'] / megapixels:>6.2f} {ratio:>8} {r['peak_rss_mb']:>11.0f}", flush=True)
                rows.append({"size": f"{width}x{height}", "threads": threads, "implementation": name, **r})
    print("vs torch: PyTorch eager median / this median (higher is faster).")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
