"""NS GAN: Goodfellow et al.'s non-saturating generator loss; the paper's reference model."""
from __future__ import annotations

from torch import Tensor

from gan_study.models.losses.functional import non_saturating_generator
from gan_study.models.losses.mm_gan import MinimaxGAN
from gan_study.models.losses.registry import register_loss


@register_loss("ns_gan")
class NonSaturatingGAN(MinimaxGAN):
    """L_D as MM GAN; L_G = BCE(ℓ_f, 1) = −E[log sigmoid(ℓ_f)]."""

    def generator_objective(self, fake_logits: Tensor) -> Tensor:
        return non_saturating_generator(fake_logits)
