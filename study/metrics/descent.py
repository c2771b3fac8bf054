"""Pieces shared by the two distance searches of Triangles precision/recall (triangle fit, latent inversion)."""
from __future__ import annotations

import math

import torch


def squared_distance(images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sum over the last axis of squared differences, in float64; NaN (a diverged generator) reads as +inf."""
    distances = (images.to(torch.float64) - targets.to(torch.float64)).square().sum(dim=-1)
    return torch.nan_to_num(distances, nan=math.inf)


def set_cosine_lr(optimiser: torch.optim.Optimizer, lr: float, floor: float, step: int, steps: int) -> None:
    """lr at `step` of `steps`: a cosine from lr down to lr · floor at the last step."""
    progress = step / max(steps - 1, 1)
    for group in optimiser.param_groups:
        group["lr"] = lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
