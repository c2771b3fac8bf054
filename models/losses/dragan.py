"""DRAGAN (Kodali et al. 2017): NS GAN with a gradient penalty around the data."""
from __future__ import annotations

import torch
from torch import Tensor

from gan_study.models.losses import hyperparameters as check
from gan_study.models.losses.base import LossOutput, Networks
from gan_study.models.losses.ns_gan import NonSaturatingGAN
from gan_study.models.losses.penalties import DRAGAN_NOISES, GRADIENT_TARGETS, dragan_draws, dragan_penalty
from gan_study.models.losses.registry import register_loss


@register_loss("dragan")
class DRAGAN(NonSaturatingGAN):
    """L_D = BCE(ℓ_r, 1) + BCE(ℓ_f, 0) + λ·GP_dragan; L_G = BCE(ℓ_f, 1).

    Defaults are the code: one-sided uniform noise and the gradient of the probability sigmoid(ℓ).
    `noise="gaussian"` follows the paper text, `gradient_of="logit"` penalises the logit's gradient.
    """

    def __init__(self, *, penalty_weight: float = 10.0, noise: str = "uniform", gradient_of: str = "probability"):
        super().__init__()
        self.penalty_weight = check.non_negative("dragan", "penalty_weight", penalty_weight)
        self.noise = check.choice("dragan", "noise", noise, DRAGAN_NOISES)
        self.gradient_of = check.choice("dragan", "gradient_of", gradient_of, GRADIENT_TARGETS)

    def draw_noise(self, real: Tensor, z: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        return dragan_draws(real, self.noise, generator)

    def discriminator_loss(self, nets: Networks, real: Tensor, z: Tensor,
                           draws: dict[str, Tensor] | None = None) -> LossOutput:
        loss, _ = super().discriminator_loss(nets, real, z)
        penalty = dragan_penalty(nets.discriminator, real, self.noise, self.gradient_of, draws)
        return LossOutput(loss + self.penalty_weight * penalty, {"gradient_penalty": penalty})
