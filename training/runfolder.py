"""What a run folder (`--out`) holds, by name: the one place its layout is written. Torch-free.

    checkpoints/step_NNNNNN.pth   the last few checkpoints (an exact resume: training/checkpoint.py)
    final.pth                     the finished run's checkpoint
    training_summary.json         the run's own record (training/record.py); the exporter copies it into the card
    metrics.jsonl                 one JSON line per logged step (training/runlog.py)
    samples/step_NNNNNN.jpg       the sample photos beside their stylizations
    finish                        present when the job's owner asked to finish early: export what was learned

The trainer writes it; the exporter, the in-job entry, scripts/ship_styles.py and the jobs' progress read it.
"""

import json
import re
from pathlib import Path

CHECKPOINTS = "checkpoints"
FINAL = "final.pth"
SUMMARY = "training_summary.json"
METRICS = "metrics.jsonl"
SAMPLES = "samples"
FINISH = "finish"
STEP_FILE = re.compile(r"step_(\d{6,})\.(pth|jpg)$")


def step_name(step: int, suffix: str) -> str:
    return f"step_{step:06d}{suffix}"


def step_of(path) -> int | None:
    """The step in a checkpoint's or a sample sheet's file name."""
    found = STEP_FILE.search(str(path))
    return int(found.group(1)) if found else None


class RunFolder:
    """A run folder's files, by what they are."""

    def __init__(self, path):
        self.path = Path(path)
        self.checkpoints = self.path / CHECKPOINTS
        self.final = self.path / FINAL
        self.summary = self.path / SUMMARY
        self.metrics = self.path / METRICS
        self.samples = self.path / SAMPLES
        self.finish_request = self.path / FINISH

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / step_name(step, ".pth")

    def sample_sheet(self, step: int) -> Path:
        return self.samples / step_name(step, ".jpg")

    def saved_checkpoints(self) -> list:
        """The checkpoints in the folder, oldest first (their names sort by step)."""
        return sorted(self.checkpoints.glob("step_*.pth"))

    def latest_checkpoint(self) -> Path | None:
        found = self.saved_checkpoints()
        return found[-1] if found else None

    def furthest(self) -> tuple[int, Path | None]:
        """(step reached, the file to continue from): the newest of the last checkpoint and a finished run's
        final state (whose step the summary records)."""
        best = (0, None)
        if self.summary.is_file() and self.final.is_file():
            best = (json.loads(self.summary.read_text())["steps"], self.final)
        for checkpoint in self.saved_checkpoints():
            if step_of(checkpoint) > best[0]:
                best = (step_of(checkpoint), checkpoint)
        return best


def summary_near(checkpoint_path) -> Path | None:
    """The training summary of the run a checkpoint belongs to (final.pth's folder, or the run folder above
    checkpoints/). Runs made before the summary got its own name wrote it as model_card.json: found too."""
    checkpoint_path = Path(checkpoint_path)
    for folder in (checkpoint_path.parent, checkpoint_path.parent.parent):
        for name in (SUMMARY, "model_card.json"):
            if (folder / name).is_file():
                return folder / name
    return None
