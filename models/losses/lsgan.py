"""LSGAN (Mao et al. 2017): least squares, on the sigmoid outputs as compare_gan codes it."""
from __future__ import annotations

import torch
from torch import Tensor

from gan_study.models.losses import hyperparameters as check
from gan_study.models.losses.functional import least_squares_discriminator, least_squares_generator
from gan_study.models.losses.logit_loss import LogitLoss
from gan_study.models.losses.registry import register_loss

OUTPUTS = ("sigmoid", "logits")


@register_loss("lsgan")
class LSGAN(LogitLoss):
    """L_D = ½(E[(d_r − 1)²] + E[d_f²]); L_G = ½E[(d_f − 1)²].

    d = sigmoid(ℓ) with `on="sigmoid"` (the paper's code); d = ℓ with `on="logits"` (the unbounded D the
    paper's Table 1 caption describes).
    """

    def __init__(self, *, on: str = "sigmoid"):
        super().__init__()
        self.on = check.choice("lsgan", "on", on, OUTPUTS)

    def outputs(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits) if self.on == "sigmoid" else logits

    def discriminator_objective(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return least_squares_discriminator(self.outputs(real_logits), self.outputs(fake_logits))

    def generator_objective(self, fake_logits: Tensor) -> Tensor:
        return least_squares_generator(self.outputs(fake_logits))
