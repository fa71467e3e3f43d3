"""Training photos: any folder of images, searched recursively (COCO train2014's flat folder
works as it is), resized and cropped to a square.

Augmentation (crop position, flip) is a pure function of (seed, epoch, index), so the stream
of batches is the same whatever the number of workers, and a resumed run sees exactly the
batches an uninterrupted run would have seen.
"""

import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class DatasetError(ValueError):
    pass


def find_images(root) -> list:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise DatasetError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) under {root}")
    return files


def load_rgb(path) -> Image.Image:
    """An RGB image with EXIF orientation applied."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        return image.convert("RGB")


def to_tensor(image: Image.Image) -> torch.Tensor:
    """(3, H, W) float32 in 0..255, the transformer's pixel range."""
    return torch.from_numpy(np.asarray(image, dtype=np.float32).transpose(2, 0, 1).copy())


def resize_short_side(image: Image.Image, size: int) -> Image.Image:
    w, h = image.size
    scale = size / min(w, h)
    return image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BICUBIC)


def load_style_image(path, style_size=None) -> torch.Tensor:
    """The style image as (3, H, W) 0..255, its long side resized to `style_size` if given."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"style image not found: {path}")
    try:
        image = load_rgb(path)
    except (UnidentifiedImageError, OSError) as exc:
        raise DatasetError(f"style image {path} cannot be read: {exc}") from exc
    if style_size:
        w, h = image.size
        scale = style_size / max(w, h)
        image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BICUBIC)
    return to_tensor(image)


class PhotoDataset(torch.utils.data.Dataset):
    """Photos resized (short side) and cropped to `image_size` squares.

    Files that cannot be opened are skipped and counted when the dataset is built (a header
    check, fast even for COCO); a file that fails later, while decoding, is replaced by the
    next one, with a warning.
    """

    def __init__(self, root, image_size: int = 256, seed: int = 0, augment: bool = True):
        self.image_size = image_size
        self.seed = seed
        self.augment = augment
        self.epoch = 0
        self.files = []
        self.skipped = []
        for path in find_images(root):
            try:
                with Image.open(path) as image:
                    image.size  # noqa: B018 - the header is read here
                self.files.append(path)
            except (UnidentifiedImageError, OSError):
                self.skipped.append(path)
        if self.skipped:
            log.warning("skipped %d unreadable files under %s (first: %s)", len(self.skipped), root, self.skipped[0])
        if not self.files:
            raise DatasetError(f"no readable images under {root} ({len(self.skipped)} unreadable files skipped)")

    def __len__(self):
        return len(self.files)

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def __getitem__(self, index: int) -> torch.Tensor:
        for attempt in range(len(self.files)):
            path = self.files[(index + attempt) % len(self.files)]
            try:
                image = load_rgb(path)
                break
            except (UnidentifiedImageError, OSError) as exc:
                log.warning("skipping %s: %s", path, exc)
        else:
            raise DatasetError("no image in the dataset could be decoded")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        image = resize_short_side(image, self.image_size)
        w, h = image.size
        s = self.image_size
        if self.augment:
            left, top = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
        else:
            left, top = (w - s) // 2, (h - s) // 2
        image = image.crop((left, top, left + s, top + s))
        if self.augment and rng.random() < 0.5:
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        return to_tensor(image)


class EpochSampler(torch.utils.data.Sampler):
    """A permutation per epoch from (seed, epoch), sharded across DDP ranks, that can start
    part-way through an epoch (for exact resume). Drops the last incomplete global batch."""

    def __init__(self, size: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1):
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.epoch, self.start_batch = 0, 0
        self.batches_per_epoch = size // (batch_size * world_size)
        if self.batches_per_epoch == 0:
            raise DatasetError(
                f"{size} images are fewer than one batch ({batch_size} x {world_size} processes)"
            )

    def set_position(self, epoch: int, start_batch: int):
        self.epoch, self.start_batch = epoch, start_batch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.size, generator=generator).tolist()
        global_batch = self.batch_size * self.world_size
        for b in range(self.start_batch, self.batches_per_epoch):
            chunk = order[b * global_batch:(b + 1) * global_batch]
            yield from chunk[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]

    def __len__(self):
        return (self.batches_per_epoch - self.start_batch) * self.batch_size
