"""The checkout the tests run in, and what they must leave as they found it."""

from pathlib import Path

# `make dev` keeps a developer's own styles here (devserver's default --jobs-dir). Only this folder is compared:
# the rest of runs/ holds training runs, which may be written by a run going on beside the tests.
CHECKOUT_JOBS = Path(__file__).resolve().parent.parent / "runs" / "jobs"


def checkout_jobs() -> set:
    """Every path under the checkout's runs/jobs (the folder itself included), as they are now."""
    if not CHECKOUT_JOBS.exists():
        return set()
    return {CHECKOUT_JOBS, *CHECKOUT_JOBS.rglob("*")}
