"""The optimisation-based reference (Gatys et al. 2016; eq. 2 of the original report): start from
white noise and minimise the same weighted perceptual loss directly over the pixels with L-BFGS.

The feed-forward transformer network is judged against it: Johnson et al. (Fig. 5) report that
their network reaches the loss of about 50 to 100 L-BFGS iterations.
"""

import torch

from .losses import PerceptualLoss


def gatys(criterion: PerceptualLoss, photo: torch.Tensor, iterations=(100, 300), seed: int = 0,
          init: str = "noise") -> dict:
    """Optimise an image for `photo` (3, H, W, 0..255); return {iteration: image} at each requested
    iteration count (one run, snapshots along the way), clamped to 0..255 as a user would see them."""
    generator = torch.Generator().manual_seed(seed)
    if init == "noise":
        start = torch.rand(photo.shape, generator=generator) * 255
    else:
        start = photo.clone()
    image = start.unsqueeze(0).requires_grad_(True)
    content = photo.unsqueeze(0)
    # Fixed unit steps, no line search: the L-BFGS of Gatys' and Johnson's own (Lua optim.lbfgs)
    # implementations, one loss evaluation per iteration. PyTorch's strong-Wolfe search cost 2.2
    # evaluations per iteration here and stalled for good within 30 iterations (the loss stopped moving).
    optimizer = torch.optim.LBFGS([image], lr=1.0, max_iter=max(iterations), tolerance_grad=0.0,
                                  tolerance_change=0.0, history_size=100, line_search_fn=None)
    snapshots = {}
    wanted = sorted(iterations)

    def closure():
        optimizer.zero_grad()
        loss = criterion(image, content).total
        loss.backward()
        return loss

    # One L-BFGS "step" runs up to max_iter iterations; run them one at a time to take snapshots.
    optimizer.param_groups[0]["max_iter"] = 1
    for iteration in range(1, wanted[-1] + 1):
        optimizer.step(closure)  # the history carries over between calls
        if iteration in wanted:
            snapshots[iteration] = image.detach()[0].clamp(0, 255)
    return snapshots
