"""BEGAN's auto-encoder discriminator as compare_gan v1 codes it, not the BEGAN paper's (docs/protocol.md#architecture)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_study.models.layers import activation, check_image_shape, conv, linear, optional_batch_norm, upsampling_decoder

CODE_DIM = 64  # fixed in the code, independent of z_dim


def autoencoder_encoder(image_shape: tuple[int, int, int], batchnorm: bool) -> nn.Sequential:
    """Images → the 64-d code: conv 64 → lReLU → conv 128 (no BN, no activation) → fc 64 → [BN] → lReLU."""
    channels, height, width = check_image_shape(image_shape)
    return nn.Sequential(
        conv(channels, 64),
        activation("lrelu"),
        conv(64, 128),
        nn.Flatten(),
        linear(128 * (height // 4) * (width // 4), CODE_DIM),
        *optional_batch_norm(CODE_DIM, spatial=False, enabled=batchnorm),
        activation("lrelu"),
    )


class AutoEncoderDiscriminator(nn.Module):
    """Images (N, C, H, W) in [0, 1] → reconstructions AE(x) of the same shape, in [0, 1].

    Encoder: conv 64 → lReLU → conv 128 (no BN, no activation) → fc 64 → [BN] → lReLU.
    Decoder: fc 128·H/4·W/4 → [BN] → lReLU → deconv 64 → [BN] → lReLU → deconv C → sigmoid.
    `batchnorm` is the `discriminator_batchnorm` switch (all three norms together).
    """

    def __init__(self, image_shape: tuple[int, int, int], batchnorm: bool = False):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        self.encoder = autoencoder_encoder(self.image_shape, batchnorm)
        self.decoder = upsampling_decoder(CODE_DIM, self.image_shape, batchnorm, "lrelu")

    def forward(self, images: Tensor) -> Tensor:
        return torch.sigmoid(self.decoder(self.encoder(images)))
