"""Small stand-in networks whose outputs are known in closed form, to test the losses' formulas and plumbing."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gan_study.models import Networks


class ReshapeGenerator(nn.Module):
    """G(z) = z as a (N, 1, 1, d) image: the fake batch is whatever z the test chooses."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z.reshape(z.shape[0], 1, 1, -1)


class PixelSumDiscriminator(nn.Module):
    """ℓ(x) = Σ pixels: with (N, 1, 1, 1) images the logit of example i is the test's chosen number."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.flatten(1).sum(dim=1)


class LinearDiscriminator(nn.Module):
    """ℓ(x) = <w, x> + b, whose input gradient is w everywhere; remembers the last batch it saw."""

    def __init__(self, weight: torch.Tensor, bias: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(weight.clone())
        self.bias = nn.Parameter(torch.tensor(bias, dtype=weight.dtype))
        self.seen: list[torch.Tensor] = []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.seen.append(images.detach().clone())
        return images.flatten(1) @ self.weight.flatten() + self.bias


def logit_networks() -> Networks:
    return Networks(ReshapeGenerator(), PixelSumDiscriminator())


def as_images(logits: np.ndarray) -> torch.Tensor:
    return torch.tensor(logits, dtype=torch.float64).reshape(-1, 1, 1, 1)


def as_latents(logits: np.ndarray) -> torch.Tensor:
    return torch.tensor(logits, dtype=torch.float64).reshape(-1, 1)
