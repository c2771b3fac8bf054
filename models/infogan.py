"""The fixed InfoGAN-style generator and discriminator of the study (docs/protocol.md#architecture)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_study.models.checks import integer
from gan_study.models.layers import (activation, batch_norm, check_image_shape, conv, linear,
                           optional_batch_norm, upsampling_decoder)


def discriminator_trunk(image_shape: tuple[int, int, int], batchnorm: bool) -> nn.Sequential:
    """conv 64 → lReLU → conv 128 → [BN] → lReLU → fc 1024 → [BN] → lReLU; shared by D and the VAE encoder.

    The first layer never has batch norm; `batchnorm` switches the other two together, as the code.
    """
    channels, height, width = check_image_shape(image_shape)
    return nn.Sequential(
        conv(channels, 64),
        activation("lrelu"),
        conv(64, 128),
        *optional_batch_norm(128, spatial=True, enabled=batchnorm),
        activation("lrelu"),
        nn.Flatten(),
        linear(128 * (height // 4) * (width // 4), 1024),
        *optional_batch_norm(1024, spatial=False, enabled=batchnorm),
        activation("lrelu"),
    )


class Discriminator(nn.Module):
    """Images in [0, 1], (N, C, H, W) → logits ℓ(x), (N,). The losses apply the sigmoid where they need it."""

    def __init__(self, image_shape: tuple[int, int, int], batchnorm: bool = True):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        self.trunk = discriminator_trunk(self.image_shape, batchnorm)
        self.logit = linear(1024, 1)

    def forward(self, images: Tensor) -> Tensor:
        return self.logit(self.trunk(images)).squeeze(1)


class Generator(nn.Module):
    """z, (N, z_dim) → images in [0, 1], (N, C, H, W): fc 1024 → BN → act → `upsampling_decoder` → sigmoid.

    Batch norm is always on in G. `activation` is "lrelu" (compare_gan v1, the paper's numbers) or "relu"
    (the InfoGAN paper and the appendix table).
    """

    def __init__(self, image_shape: tuple[int, int, int], z_dim: int = 64, activation_name: str = "lrelu"):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        self.z_dim = integer("z_dim", z_dim, 1)
        self.body = nn.Sequential(
            linear(z_dim, 1024),
            batch_norm(1024, spatial=False),
            activation(activation_name),
            *upsampling_decoder(1024, self.image_shape, batchnorm=True, activation_name=activation_name),
        )

    def forward(self, z: Tensor) -> Tensor:
        return torch.sigmoid(self.body(z))
