"""What a run leaves to watch it by: metrics.jsonl, the progress bar, and sample stylizations.

RunLog is a context manager, so the metrics file and the progress bar are closed however the
loop ends (a finished run, Ctrl-C, a non-finite loss). Only the main process writes.
"""

import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch

from .data import find_images, load_rgb, resize_short_side, to_tensor
from .runfolder import METRICS, step_name

log = logging.getLogger("training")


class RunLog:
    def __init__(self, out: Path, total_steps: int, start_step: int, images_per_step: int, enabled: bool = True):
        self.out, self.total_steps, self.start_step = out, total_steps, start_step
        self.images_per_step, self.enabled = images_per_step, enabled
        self.recent = []  # the last logged losses, for the training summary
        self._file = self._progress = None

    def __enter__(self):
        self._interval_start, self._interval_steps = time.perf_counter(), 0
        if self.enabled:
            from tqdm import tqdm

            self._file = open(self.out / METRICS, "a")
            self._progress = tqdm(total=self.total_steps, initial=self.start_step, unit="step", dynamic_ncols=True)
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.close()
        if self._file is not None:
            self._file.close()

    def step(self, step: int, epoch: int, losses, lr: float, log_now: bool):
        """Count a step; on a logging step, check the losses are finite and write a metrics line."""
        self._interval_steps += 1
        if log_now:
            values = losses.as_floats()
            if not all(math.isfinite(v) for v in values.values()):
                raise FloatingPointError(f"non-finite loss at step {step}: {values}")
            elapsed = time.perf_counter() - self._interval_start
            record = {"step": step, "epoch": epoch, **values,
                      "images_per_s": self._interval_steps * self.images_per_step / elapsed,
                      "lr": lr, "time": round(time.time(), 3)}
            self._interval_start, self._interval_steps = time.perf_counter(), 0
            self.recent = (self.recent + [values])[-20:]
            if self.enabled:
                line = json.dumps(record)
                self._file.write(line + "\n")
                self._file.flush()
                # the same line in the log: what a SageMaker metric definition reads ("total": ...)
                log.info("metrics %s", line)
                self._progress.set_postfix(loss=f"{values['total']:.4g}", content=f"{values['content']:.4g}",
                                           style=f"{values['style']:.4g}", img_s=f"{record['images_per_s']:.2f}")
        if self.enabled:
            self._progress.update(1)

    def final_losses(self) -> dict:
        return {k: float(np.mean([r[k] for r in self.recent])) for k in self.recent[0]} if self.recent else {}


# --------------------------------------------------------------------------------- samples

def sample_photo_paths(sample_images: list, dataset_files: list) -> list:
    """The photos given (files or folders), else four photos spread over the dataset, the same every run."""
    paths = []
    for entry in sample_images:
        entry = Path(entry)
        paths.extend(find_images(entry) if entry.is_dir() else [entry])
    if not paths:
        step = max(1, len(dataset_files) // 4)
        paths = dataset_files[::step][:4]
    return paths[:8]


def load_samples(paths: list, size: int) -> list:
    samples = []
    for path in paths:
        image = load_rgb(path)
        if min(image.size) > size:
            image = resize_short_side(image, size)
        samples.append((Path(path).stem, to_tensor(image)))
    return samples


@torch.no_grad()
def save_samples(net, samples: list, num_styles: int, device, out_dir: Path, step: int):
    """Each sample photo next to its stylization in every style (one column per style), one JPEG per step."""
    from PIL import Image

    net.eval()
    rows = []
    for _, photo in samples:
        batch = photo.unsqueeze(0).to(device)
        styled = [net(batch, None if num_styles == 1 else torch.tensor([s], device=device)) for s in range(num_styles)]
        row = torch.cat([photo, *(s.clamp(0, 255)[0].float().cpu() for s in styled)], dim=2)  # side by side
        rows.append(row.permute(1, 2, 0).round().byte().numpy())
    net.train()
    width = max(r.shape[1] for r in rows)
    sheet = np.zeros((sum(r.shape[0] for r in rows), width, 3), np.uint8)
    y = 0
    for r in rows:
        sheet[y:y + r.shape[0], :r.shape[1]] = r
        y += r.shape[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(out_dir / step_name(step, ".jpg"), quality=90)
