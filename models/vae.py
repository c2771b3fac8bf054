"""The VAE baseline's encoder and decoder (docs/protocol.md#architecture)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_study.models.checks import integer
from gan_study.models.infogan import Generator, discriminator_trunk
from gan_study.models.layers import linear

SIGMA_FLOOR = 1e-6
OUTPUT_CLIP = 1e-8


def gaussian_moments(moments: Tensor, z_dim: int) -> tuple[Tensor, Tensor]:
    """The moments layer's (N, 2·z_dim) output as (μ, σ) with σ = 1e-6 + softplus."""
    mean, pre_sigma = moments.split(z_dim, dim=1)
    return mean, SIGMA_FLOOR + F.softplus(pre_sigma)


class VAEEncoder(nn.Module):
    """Images → (μ, σ), each (N, z_dim): the discriminator trunk, then fc 2·z_dim; σ = 1e-6 + softplus.

    `batchnorm` is the `discriminator_batchnorm` switch, which the search samples for the VAE too.
    """

    def __init__(self, image_shape: tuple[int, int, int], z_dim: int = 64, batchnorm: bool = True):
        super().__init__()
        self.z_dim = integer("z_dim", z_dim, 1)
        self.trunk = discriminator_trunk(image_shape, batchnorm)
        self.moments = linear(1024, 2 * z_dim)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        return gaussian_moments(self.moments(self.trunk(images)), self.z_dim)


class VAEDecoder(Generator):
    """G's layers with ReLU (as coded, whatever `generator_activation` says); output clipped to [1e-8, 1 − 1e-8].

    The clip keeps log x̃ and log(1 − x̃) finite in the Bernoulli NLL.
    """

    def __init__(self, image_shape: tuple[int, int, int], z_dim: int = 64):
        super().__init__(image_shape, z_dim, activation_name="relu")

    def forward(self, z: Tensor) -> Tensor:
        return torch.clamp(super().forward(z), OUTPUT_CLIP, 1 - OUTPUT_CLIP)
