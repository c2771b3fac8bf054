"""BEGAN (Berthelot et al. 2017) as coded: an auto-encoder D and the equilibrium variable k (unclipped)."""
from __future__ import annotations

import torch
from torch import Tensor

from gan_study.models.began import AutoEncoderDiscriminator
from gan_study.models.infogan import Generator
from gan_study.models.losses import hyperparameters as check
from gan_study.models.losses.base import GANLoss, LossOutput, Networks
from gan_study.models.losses.functional import fake_batch, reconstruction_error
from gan_study.models.losses.registry import register_loss


@register_loss("began")
class BEGAN(GANLoss):
    """L_D = L(x) − k·L(G(z)); L_G = L(G(z)), with L(v) = mean |AE(v) − v|.

    After every step, a forward pass of the updated nets on the same x and z applies
    k ← k + k_lr·(γ·L(x) − L(G(z))) and logs the convergence measure M = L(x) + |γ·L(x) − L(G(z))|.
    k starts at 0 and is not clipped (the code); `clip_k=True` clips it to [0, 1] as the BEGAN paper.
    """

    def __init__(self, *, k_lr: float = 1e-3, gamma: float = 0.75, clip_k: bool = False):
        super().__init__()
        self.k_lr = check.non_negative("began", "k_lr", k_lr)
        self.gamma = check.unit_interval("began", "gamma", gamma)
        self.clip_k = check.flag("began", "clip_k", clip_k)
        self.register_buffer("k", torch.zeros(()))

    def build_networks(self, image_shape: tuple[int, int, int], z_dim: int, discriminator_batchnorm: bool,
                       generator_activation: str) -> Networks:
        return Networks(Generator(image_shape, z_dim, generator_activation),
                        AutoEncoderDiscriminator(image_shape, discriminator_batchnorm))

    def discriminator_loss(self, nets: Networks, real: Tensor, z: Tensor) -> LossOutput:
        real_error = reconstruction_error(nets.discriminator, real)
        fake_error = reconstruction_error(nets.discriminator, fake_batch(nets, z))
        return LossOutput(real_error - self.k * fake_error,
                          {"reconstruction_real": real_error, "reconstruction_fake": fake_error})

    def generator_loss(self, nets: Networks, real: Tensor, z: Tensor) -> LossOutput:
        return LossOutput(reconstruction_error(nets.discriminator, nets.generator(z)), {})

    @torch.no_grad()
    def after_train_step(self, nets: Networks, real: Tensor, z: Tensor) -> dict[str, Tensor]:
        real_error = reconstruction_error(nets.discriminator, real)
        fake_error = reconstruction_error(nets.discriminator, nets.generator(z))
        balance = self.gamma * real_error - fake_error
        self.k.add_(self.k_lr * balance)
        if self.clip_k:
            self.k.clamp_(0.0, 1.0)
        return {"k": self.k.clone(), "convergence": real_error + balance.abs()}
