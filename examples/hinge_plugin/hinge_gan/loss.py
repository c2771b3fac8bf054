"""The hinge loss (Lim & Ye 2017; Miyato et al. 2018), a loss from outside gan-study."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from gan_study.models.losses import LogitLoss
from gan_study.models.losses import hyperparameters as check


class Hinge(LogitLoss):
    """L_D = E[relu(m − ℓ_r)] + E[relu(m + ℓ_f)];  L_G = −E[ℓ_f]  (m = `margin`, 1 in the papers)."""

    def __init__(self, *, margin: float = 1.0):
        super().__init__()
        self.margin = check.positive("hinge", "margin", margin)

    def discriminator_objective(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return F.relu(self.margin - real_logits).mean() + F.relu(self.margin + fake_logits).mean()

    def generator_objective(self, fake_logits: Tensor) -> Tensor:
        return -fake_logits.mean()
