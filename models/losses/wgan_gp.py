"""WGAN-GP (Gulrajani et al. 2017): the Wasserstein loss with a gradient penalty on interpolates."""
from __future__ import annotations

import torch
from torch import Tensor

from gan_study.models.losses import hyperparameters as check
from gan_study.models.losses.base import LossOutput, Networks
from gan_study.models.losses.functional import discriminator_logits
from gan_study.models.losses.penalties import interpolation_weights, wgan_gp_penalty
from gan_study.models.losses.registry import register_loss
from gan_study.models.losses.wgan import WassersteinLoss


@register_loss("wgan_gp")
class WGANGP(WassersteinLoss):
    """L_D = −E[ℓ_r] + E[ℓ_f] + λ·GP_wgan (on the same fake batch); L_G = −E[ℓ_f] on a fresh z."""

    resample_z_for_generator = True

    def __init__(self, *, penalty_weight: float = 10.0):
        super().__init__()
        self.penalty_weight = check.non_negative("wgan_gp", "penalty_weight", penalty_weight)

    def draw_noise(self, real: Tensor, z: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        return {"alpha": interpolation_weights(real, generator)}

    def discriminator_loss(self, nets: Networks, real: Tensor, z: Tensor,
                           draws: dict[str, Tensor] | None = None) -> LossOutput:
        real_logits, fake_logits, fake = discriminator_logits(nets, real, z)
        penalty = wgan_gp_penalty(nets.discriminator, real, fake, (draws or {}).get("alpha"))
        loss = self.discriminator_objective(real_logits, fake_logits) + self.penalty_weight * penalty
        return LossOutput(loss, {"gradient_penalty": penalty})
