"""How far a job has come, from what the trainer writes to its run folder: metrics.jsonl (one line per
logged step) and samples/step_NNNNNN.jpg (the sample photo next to its stylization).

The run folder's layout is training/runfolder.py's; the jobs function runs without the training package, so
the names it reads are repeated here (METRICS, SAMPLES, CHECKPOINTS, FINAL), and a test holds them to
runfolder's."""

import base64
import json
import re

from apicommon.userstyles import run_prefix

METRICS, SAMPLES = "metrics.jsonl", "samples"  # training/runfolder.py's METRICS and SAMPLES
CHECKPOINTS, FINAL = "checkpoints", "final.pth"  # and its CHECKPOINTS and FINAL
METRICS_TAIL_BYTES = 65536  # about 250 lines of metrics.jsonl: over RATE_WINDOW_S of them on a CPU
RATE_WINDOW_S = 300  # the time left is at the speed of the last five minutes
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


def recent_rate(records: list, batch_size: int) -> float | None:
    """Images per second over the last RATE_WINDOW_S of logged lines (their `time`s), or the last line's own
    rate where fewer than two lines fall in the window.

    A line's own images/s is the speed of its last few steps only: on a shared CPU it swings several times over
    from one line to the next (41 min, then 5 h, as time left), so the time left is taken from the steps done
    over a few minutes instead. Only consecutive lines inside the window count, and only where the step went
    forward: a resume (the steps start again from the checkpoint, after a wait) adds neither steps nor time."""
    last = records[-1]
    steps = seconds = 0.0
    if isinstance(last.get("time"), int | float):
        start = last["time"] - RATE_WINDOW_S
        for before, after in zip(records, records[1:], strict=False):
            t0, t1 = before.get("time"), after.get("time")
            if not (isinstance(t0, int | float) and isinstance(t1, int | float)) or t0 < start:
                continue
            if after["step"] > before["step"] and t1 > t0:
                steps, seconds = steps + after["step"] - before["step"], seconds + t1 - t0
    if seconds > 0:
        return steps * batch_size / seconds
    rate = last.get("images_per_s")
    return rate if isinstance(rate, int | float) and rate > 0 else None


def progress(records: list, total_steps: int, batch_size: int, elapsed_s: float | None) -> dict:
    """step, total_steps, losses, images/s and an estimate of the time left, both at the recent speed."""
    if not records:
        return {"step": 0, "total_steps": total_steps, "losses": None, "images_per_s": None, "eta_s": None,
                "elapsed_s": elapsed_s}
    last = records[-1]
    rate = recent_rate(records, batch_size)
    eta = None if rate is None else round(max(0, total_steps - last["step"]) * batch_size / rate, 1)
    return {"step": last["step"], "total_steps": total_steps,
            "losses": {k: float(last[k]) for k in LOSSES if isinstance(last.get(k), int | float)},
            "images_per_s": None if rate is None else round(rate, 3), "eta_s": eta, "elapsed_s": elapsed_s}


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


CHECKPOINT = re.compile(CHECKPOINTS + r"/step_(\d{6,})\.pth$")  # not a .pth.tmp being written


def last_checkpoint_step(store, job_id: str) -> int | None:
    """The step of the newest checkpoint the run has saved, or None before the first."""
    keys = store.list(f"{run_prefix(job_id)}{CHECKPOINTS}/")
    return max((int(m.group(1)) for key in keys if (m := CHECKPOINT.search(key))), default=None)


def has_checkpoint(store, job_id: str) -> bool:
    """Whether the run has saved anything to export: a checkpoint, or a finished phase's final state."""
    return last_checkpoint_step(store, job_id) is not None or store.size(run_prefix(job_id) + FINAL) is not None
