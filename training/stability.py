"""Temporal stability learnt from still photos: a moved photo should give the moved painting.

The transformer network downsamples twice by a stride of 2, so its strokes sit on a 4-pixel lattice: when the
camera moves by 1 to 3 pixels, the strokes jump instead of moving with the scene, and a video "boils". The
quality kit measures this as the warping error of Lai et al. (ECCV 2018) with exact motion (stability.py).

This criterion trains for what that metric measures, with no flow data set: for each batch, the photos are
moved by a random (dy, dx) within one lattice cell, given their own sensor noise (the noise resilience of the
Mur.AI method), stylized, and compared with the network's output for the unmoved photos, moved the same way.
The unmoved output is the target (no gradient through it): the perceptual losses keep it painted, and this
term teaches every other phase of the lattice to paint the same strokes in the same places.
"""

import torch
import torch.nn.functional as F

LATTICE = 4  # two stride-2 layers: the network's output repeats its phase every 4 pixels
MARGIN = 16  # pixels at each border left out: what lies beyond the frame differs between the two views


def draw_shift(generator: torch.Generator) -> tuple[int, int]:
    """A (dy, dx) within one lattice cell, (0, 0) included: a still camera's noise must not flicker either."""
    dy, dx = torch.randint(LATTICE, (2,), generator=generator).tolist()
    return dy, dx


def moved(photos: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """The same-sized view of the scene dy rows lower and dx columns further right (a camera panning right and
    down): pixel (i, j) of the view is pixel (i + dy, j + dx) of the photo. The strip that enters at the bottom
    and right is the photo's reflection, as if the scene went on."""
    view = photos[..., dy:, dx:]
    return F.pad(view, (0, dx, 0, dy), mode="reflect") if dy or dx else view


def with_noise(photos: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """A camera frame: Gaussian sensor noise (0..255 scale), rounded to 8 bits as a camera delivers it."""
    if std <= 0:
        return photos
    noise = torch.randn(photos.shape, generator=generator).to(photos.device, photos.dtype) * std
    return (photos + noise).round().clamp(0, 255)


class ShiftConsistency:
    """Mean squared difference (0..255 scale) between the network's output for a moved, noisy frame and its
    output for the unmoved photo moved the same way, over the interior (the margin left out). The caller
    stylizes the frames in the same forward pass as the photos (one batch, one graph); add_to weighs the term
    into a step's losses (the loop adds this criterion when --shift-weight is over 0)."""

    def __init__(self, noise_std: float = 2.0, margin: int = MARGIN, weight: float = 1.0):
        self.noise_std, self.margin, self.weight = noise_std, margin, weight

    def frames(self, photos: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, tuple[int, int]]:
        """The photos as the next frame of a camera moving by a random (dy, dx), and that shift."""
        shift = draw_shift(generator)
        return with_noise(moved(photos, *shift), self.noise_std, generator), shift

    def __call__(self, painted: torch.Tensor, output: torch.Tensor, shift: tuple[int, int]) -> torch.Tensor:
        dy, dx = shift
        target = moved(output.detach(), dy, dx)
        h, w = output.shape[-2:]
        m = self.margin
        # the reflected strip (the last dy rows, dx columns) is not the scene: the margin leaves it out too
        inner = (..., slice(m, h - max(m, dy)), slice(m, w - max(m, dx)))
        return (painted[inner].float() - target[inner].float()).square().mean()

    def add_to(self, losses, batch) -> None:
        """Add the weighted term for this batch (its output, and the moved frames' output and shift)."""
        losses.shift = self(batch.moved_output, batch.output, batch.shift)
        losses.total = losses.total + self.weight * losses.shift
