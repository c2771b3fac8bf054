"""MM GAN: the minimax game of Goodfellow et al. (2014), with its saturating generator loss."""
from __future__ import annotations

from torch import Tensor

from gan_study.models.losses.functional import cross_entropy_discriminator, minimax_generator
from gan_study.models.losses.logit_loss import LogitLoss
from gan_study.models.losses.registry import register_loss


@register_loss("mm_gan")
class MinimaxGAN(LogitLoss):
    """L_D = BCE(ℓ_r, 1) + BCE(ℓ_f, 0); L_G = E[log(1 − sigmoid(ℓ_f))]."""

    def discriminator_objective(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return cross_entropy_discriminator(real_logits, fake_logits)

    def generator_objective(self, fake_logits: Tensor) -> Tensor:
        return minimax_generator(fake_logits)
