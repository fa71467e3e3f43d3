"""How far a job has come, from what the trainer writes to its run folder: metrics.jsonl (one line per
logged step) and samples/step_NNNNNN.jpg (the sample photo next to its stylization).

The run folder's layout is training/runfolder.py's; the jobs function runs without the training package, so
the two names it reads are repeated here (METRICS, SAMPLES), and a test holds them to runfolder's."""

import base64
import json
import re

from apicommon.userstyles import run_prefix

METRICS, SAMPLES = "metrics.jsonl", "samples"  # training/runfolder.py's METRICS and SAMPLES
METRICS_TAIL_BYTES = 8192  # enough for the last few lines of metrics.jsonl
SAMPLE = re.compile(SAMPLES + r"/step_(\d{6,})\.jpg$")
LOSSES = ("total", "content", "style", "tv")


def last_metrics(tail: bytes | None) -> list:
    """The complete JSON lines at the end of metrics.jsonl (a first, cut line is dropped)."""
    records = []
    for line in (tail or b"").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            records.append(record)
    return records


def progress(records: list, total_steps: int, batch_size: int, elapsed_s: float | None) -> dict:
    """step, total_steps, losses, images/s and an estimate of the time left (from the recent speed)."""
    if not records:
        return {"step": 0, "total_steps": total_steps, "losses": None, "images_per_s": None, "eta_s": None,
                "elapsed_s": elapsed_s}
    last = records[-1]
    rate = last.get("images_per_s")
    eta = None
    if isinstance(rate, int | float) and rate > 0:
        eta = round(max(0, total_steps - last["step"]) * batch_size / rate, 1)
    return {"step": last["step"], "total_steps": total_steps,
            "losses": {k: float(last[k]) for k in LOSSES if isinstance(last.get(k), int | float)},
            "images_per_s": round(rate, 3) if isinstance(rate, int | float) else None, "eta_s": eta,
            "elapsed_s": elapsed_s}


def latest_sample(keys: list) -> tuple[int, str] | None:
    """(step, key) of the newest sample sheet among a run's keys."""
    found = [(int(m.group(1)), key) for key in keys if (m := SAMPLE.search(key))]
    return max(found) if found else None


def read_progress(store, job_id: str, total_steps: int, batch_size: int, elapsed_s: float | None) -> dict:
    return progress(last_metrics(store.tail(run_prefix(job_id) + METRICS, METRICS_TAIL_BYTES)),
                    total_steps, batch_size, elapsed_s)


def read_preview(store, job_id: str) -> dict | None:
    """The newest preview as {"step", "image": a JPEG data URL}, or None before the first."""
    latest = latest_sample(store.list(run_prefix(job_id) + SAMPLES + "/"))
    if latest is None:
        return None
    data = store.get(latest[1])
    if not data:
        return None
    return {"step": latest[0], "image": "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")}
