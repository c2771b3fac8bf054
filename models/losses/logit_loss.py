"""The common shape of six of the eight losses: formulas of D's logits on a real and a fake batch."""
from __future__ import annotations

from torch import Tensor

from gan_study.models.losses.base import GANLoss, LossOutput, Networks
from gan_study.models.losses.functional import discriminator_logits, generator_logits


class LogitLoss(GANLoss):
    """A loss given by `discriminator_objective(ℓ_r, ℓ_f)` and `generator_objective(ℓ_f)`.

    D is called separately on the real and the (detached) fake batch, so batch norm sees one batch per call.
    """

    def discriminator_objective(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement discriminator_objective")

    def generator_objective(self, fake_logits: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement generator_objective")

    def discriminator_loss(self, nets: Networks, real: Tensor, z: Tensor) -> LossOutput:
        real_logits, fake_logits, _ = discriminator_logits(nets, real, z)
        return LossOutput(self.discriminator_objective(real_logits, fake_logits), {})

    def generator_loss(self, nets: Networks, real: Tensor, z: Tensor) -> LossOutput:
        return LossOutput(self.generator_objective(generator_logits(nets, z)), {})
