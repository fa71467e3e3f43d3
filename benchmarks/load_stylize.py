"""A bounded load test of POST /stylize against the local stack (or any deployed API): latency and errors.

    .venv/bin/python benchmarks/load_stylize.py                       # starts its own devserver on models/
    .venv/bin/python benchmarks/load_stylize.py --models DIR          # ... on another models folder
    .venv/bin/python benchmarks/load_stylize.py --url http://127.0.0.1:8000/api   # an API already running

It sends --requests stylize requests (a sample-gallery photo, uploaded as base64) with --concurrency
clients, then prints p50/p95/max latency, throughput, the server-side timings and the error count.
Exit status 1 if any request failed: under load, every request must still succeed.
"""

import argparse
import base64
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_devserver(models: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    jobs = tempfile.mkdtemp(prefix="load-stylize-jobs-")  # never the checkout's runs/jobs (make dev's styles)
    process = subprocess.Popen([sys.executable, "-m", "devserver", "--port", str(port), "--models", str(models),
                                "--jobs-dir", jobs], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/styles", timeout=2)
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the devserver did not start")


def post(url: str, body: bytes) -> tuple[float, int, dict]:
    started = time.perf_counter()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            payload = json.loads(response.read())
            return time.perf_counter() - started, response.status, payload.get("timings", {})
    except urllib.error.HTTPError as error:
        error.read()
        return time.perf_counter() - started, error.code, {}
    except OSError:
        return time.perf_counter() - started, 0, {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="the API base URL; default: start a devserver")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--photo", type=Path, default=ROOT / "sample_gallery" / "astronaut.jpg")
    parser.add_argument("--max-size", type=int, default=512)
    parser.add_argument("--style", help="default: the first style the API lists")
    args = parser.parse_args()

    process, url = (None, args.url.rstrip("/")) if args.url else start_devserver(args.models)
    try:
        styles = json.loads(urllib.request.urlopen(f"{url}/styles", timeout=30).read())["styles"]
        if not styles and not args.style:
            raise SystemExit(f"{url}/styles lists no styles: pass --models with some")
        style = args.style or styles[0]["id"]
        body = json.dumps({"image": base64.b64encode(args.photo.read_bytes()).decode(), "style": style,
                           "max_size": args.max_size}).encode()
        post(f"{url}/stylize", body)  # warm-up: the first inference of a session is slower
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(lambda _: post(f"{url}/stylize", body), range(args.requests)))
        wall = time.perf_counter() - started
    finally:
        if process:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    latencies = [r[0] for r in results]
    errors = [r[1] for r in results if r[1] != 200]
    inference = [r[2]["inference_ms"] for r in results if r[2]]
    print(f"POST /stylize x {args.requests}, concurrency {args.concurrency}, {args.photo.name} at max_size "
          f"{args.max_size}, style {style}, against {'the local stack' if process else url}")
    print(f"  latency   p50 {percentile(latencies, 50):.2f} s   p95 {percentile(latencies, 95):.2f} s   "
          f"max {max(latencies):.2f} s   mean {statistics.mean(latencies):.2f} s")
    print(f"  throughput {args.requests / wall:.2f} requests/s over {wall:.1f} s")
    if inference:
        print(f"  server inference_ms   p50 {percentile(inference, 50):.0f}   p95 {percentile(inference, 95):.0f}")
    print(f"  errors {len(errors)}" + (f"  (statuses: {sorted(set(errors))})" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
