"""WGAN (Arjovsky et al. 2017): the Wasserstein critic loss, Lipschitz by clipping every D parameter."""
from __future__ import annotations

import torch
from torch import Tensor

from gan_study.models.losses import hyperparameters as check
from gan_study.models.losses.base import Networks
from gan_study.models.losses.functional import wasserstein_discriminator, wasserstein_generator
from gan_study.models.losses.logit_loss import LogitLoss
from gan_study.models.losses.registry import register_loss


class WassersteinLoss(LogitLoss):
    """L_D = −E[ℓ_r] + E[ℓ_f]; L_G = −E[ℓ_f]. Shared by WGAN and WGAN-GP; not registered itself."""

    def discriminator_objective(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return wasserstein_discriminator(real_logits, fake_logits)

    def generator_objective(self, fake_logits: Tensor) -> Tensor:
        return wasserstein_generator(fake_logits)


@register_loss("wgan")
class WGAN(WassersteinLoss):
    """After each D step every D parameter (weights, biases, BN γ and β) is clipped to [−clip, clip].

    The clip runs after `optimizer.step()`; TF ran it in the Adam step's group (docs/protocol.md#training-loop).
    """

    def __init__(self, *, clip: float = 0.01):
        super().__init__()
        self.clip = check.positive("wgan", "clip", clip)

    def after_discriminator_step(self, nets: Networks) -> None:
        with torch.no_grad():
            for parameter in nets.discriminator.parameters():
                parameter.clamp_(-self.clip, self.clip)
