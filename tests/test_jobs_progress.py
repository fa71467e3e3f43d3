"""A job's time left is taken at the speed of the last few minutes, not of the last logged line: polled every
2 s while the trainer's lines alternate between fast and slow (a shared CPU), it moves by less than 30% from
one poll to the next, where the last line's own speed swings it several times over."""

import json

from apicommon.store import LocalStore
from apicommon.userstyles import run_prefix
from stylejobs.progress import METRICS, RATE_WINDOW_S, progress, read_progress

BATCH, TOTAL, EVERY = 4, 2000, 5  # the CPU schedule's batch and steps; a line every 5 steps
FAST_S, SLOW_S = 6.0, 60.0  # the seconds each line's 5 steps took, alternately: 3.3 and 0.33 images/s


def line(step: int, at: float, seconds: float) -> dict:
    return {"step": step, "total": 1.0, "content": 0.5, "style": 0.4, "tv": 0.1,
            "images_per_s": EVERY * BATCH / seconds, "time": at}


def alternating(start: float = 1_800_000_000.0, lines: int = 200, first_step: int = 0) -> list:
    records, at = [], start
    for i in range(lines):
        seconds = FAST_S if i % 2 else SLOW_S
        at += seconds
        records.append(line(first_step + EVERY * (i + 1), at, seconds))
    return records


def polls(records: list, every_s: float = 2.0):
    """What GET /jobs/{id} says every `every_s` seconds while the lines arrive: (eta_s, images_per_s) each time."""
    seen, t, end = [], records[0]["time"], records[-1]["time"]
    while t <= end:
        logged = [r for r in records if r["time"] <= t]
        status = progress(logged, TOTAL, BATCH, None)
        seen.append((status["eta_s"], status["images_per_s"]))
        t += every_s
    return seen


def largest_swing(etas: list) -> float:
    pairs = [(a, b) for a, b in zip(etas, etas[1:], strict=False) if a and b]
    return max(max(a, b) / min(a, b) - 1 for a, b in pairs)


def test_time_left_moves_less_than_30_percent_between_polls_when_lines_alternate_fast_and_slow():
    records = alternating()
    warm = int(RATE_WINDOW_S / 2)  # the polls of the first window (every 2 s), before it holds enough lines
    settled = [eta for eta, _ in polls(records) if eta is not None][warm:]
    assert largest_swing(settled) < 0.30
    # the steady speed is the mean one: 10 steps per 66 s
    expected = 2 * EVERY * BATCH / (FAST_S + SLOW_S)
    assert abs(progress(records, TOTAL, BATCH, None)["images_per_s"] - expected) / expected < 0.15


def test_the_last_lines_own_speed_would_swing_it_several_times_over():
    """What the test above guards against: the estimate from each line's own images/s."""
    records = alternating(lines=20)
    own = [(TOTAL - r["step"]) * BATCH / r["images_per_s"] for r in records]
    assert largest_swing(own) > 5


def test_the_first_line_uses_its_own_speed_and_a_resume_adds_neither_steps_nor_waiting():
    first = alternating(lines=1)
    assert progress(first, TOTAL, BATCH, None)["images_per_s"] == round(first[0]["images_per_s"], 3)
    before = alternating(lines=40)
    # stopped at step 200, queued behind another job for 4 minutes, resumed from the checkpoint at step 150
    after = alternating(start=before[-1]["time"] + 240, lines=40, first_step=150)
    rate = progress(before + after, TOTAL, BATCH, None)["images_per_s"]
    steady = 2 * EVERY * BATCH / (FAST_S + SLOW_S)
    assert abs(rate - steady) / steady < 0.15


def test_read_progress_reads_enough_of_metrics_jsonl_for_the_window(tmp_path):
    store = LocalStore(tmp_path)
    records = alternating(lines=300)
    store.put(run_prefix("j" * 26) + METRICS, "".join(json.dumps(r) + "\n" for r in records).encode())
    status = read_progress(store, "j" * 26, TOTAL, BATCH, 12.0)
    assert status["step"] == records[-1]["step"] and status["elapsed_s"] == 12.0
    at_that_speed = (TOTAL - status["step"]) * BATCH / status["images_per_s"]
    assert abs(status["eta_s"] - at_that_speed) / at_that_speed < 0.01  # the speed shown is rounded
    steady = 2 * EVERY * BATCH / (FAST_S + SLOW_S)
    assert abs(status["images_per_s"] - steady) / steady < 0.15
