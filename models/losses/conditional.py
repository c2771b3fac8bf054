"""Any registered loss, class-conditional, without editing it: `ConditionalLoss` wraps the loss (not in the paper, off by default).

A loss calls `nets.generator(z)` and `nets.discriminator(images)`. The wrapper hands it label-bound views
of the conditional networks, so those calls stay as they are: G draws the step's fake labels, and D is
given, per call, the labels of the batch it looks at. D is called on the real batch (its labels), on a
batch G just made in this step (the requested labels; recognised by identity, which holds because every
loss passes G's output to D unchanged), and on points derived from the real batch — WGAN-GP's interpolates,
DRAGAN's perturbations — which take the real batch's labels. The real/fake logit each loss uses is left
as it is; the AC-GAN class loss is added on top, from the class logits D produced in the loss's own calls
(no extra forward pass).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_study.models.checks import choice, integer
from gan_study.models.conditional import HEADS, conditional_counterpart
from gan_study.models.losses import hyperparameters as check
from gan_study.models.losses.base import GANLoss, LossOutput, Networks, Optimizers


@dataclass
class LabelRouting:
    """The labels of one training step, and the class logits D produced for the real and the fake batches."""

    real: Tensor
    real_labels: Tensor
    fake_labels: Tensor
    fakes: list[Tensor] = field(default_factory=list)
    class_logits: dict[str, list[Tensor]] = field(default_factory=lambda: {"real": [], "fake": []})

    def labels_of(self, images: Tensor) -> tuple[str, Tensor]:
        """("real" | "fake" | "derived", labels) of a batch D is about to see."""
        if images is self.real:
            return "real", self.real_labels
        if any(images is fake for fake in self.fakes):
            return "fake", self.fake_labels
        return "derived", self.real_labels

    def forget_class_logits(self) -> None:
        self.class_logits = {"real": [], "fake": []}


class LabelledGenerator(nn.Module):
    """z → G(z, fake labels); remembers what it made, so D knows those images' labels."""

    def __init__(self, generator: nn.Module, routing: LabelRouting):
        super().__init__()
        self.generator, self.routing = generator, routing

    def forward(self, z: Tensor) -> Tensor:
        images = self.generator(z, self.routing.fake_labels)
        self.routing.fakes.append(images)
        return images


class LabelledDiscriminator(nn.Module):
    """images → D(images, their labels)'s unconditional output; keeps the class logits of real and fake calls."""

    def __init__(self, discriminator: nn.Module, routing: LabelRouting):
        super().__init__()
        self.discriminator, self.routing = discriminator, routing

    def forward(self, images: Tensor) -> Any:
        kind, labels = self.routing.labels_of(images)
        output, class_logits = self.discriminator(images, labels)
        if class_logits is not None and kind != "derived":
            self.routing.class_logits[kind].append(class_logits)
        return output


@dataclass
class LabelledNetworks(Networks):
    """Label-bound views of the conditional networks, as a loss sees them during one step."""

    routing: LabelRouting


def class_cross_entropy(class_logits: list[Tensor], labels: Tensor) -> Tensor:
    """The mean cross-entropy of the class logits of each call against `labels`, averaged over the calls."""
    return torch.stack([F.cross_entropy(logits, labels) for logits in class_logits]).mean()


class ConditionalLoss(GANLoss):
    """`loss` on conditional networks, plus the AC-GAN class loss weighted by `aux_weight`.

    D step: L_D + aux_weight·CE(D's class logits on the real batch, its labels) [+ the same on the fakes
    with their requested labels when `classify_fakes`, as the AC-GAN paper]. G step: L_G + aux_weight·CE(D's
    class logits on G's fakes, the requested labels). With the projection head D has no class logits and the
    conditioning lives in the logit alone. A loss that owns its whole step (the VAE) gets networks bound to
    the real labels throughout (the conditional VAE: encoder and decoder see the image's class) and no
    class loss.
    """

    def __init__(self, *, loss: GANLoss, num_classes: int, head: str = "acgan", aux_weight: float = 1.0,
                 classify_fakes: bool = False):
        super().__init__()
        if not isinstance(loss, GANLoss):
            raise TypeError(f"loss = {loss!r} is not allowed; allowed: a gan_study.models.losses.GANLoss instance")
        self.loss = loss
        self.num_classes = integer("num_classes", num_classes, 1)
        self.head = choice("head", head, HEADS)
        self.aux_weight = check.non_negative("conditional", "aux_weight", aux_weight)
        self.classify_fakes = check.flag("conditional", "classify_fakes", classify_fakes)
        self.prior = loss.prior
        self.resample_z_for_generator = loss.resample_z_for_generator

    @property
    def owns_its_step(self) -> bool:
        return type(self.loss).train_step is not GANLoss.train_step

    def build_networks(self, image_shape: tuple[int, int, int], z_dim: int, discriminator_batchnorm: bool,
                       generator_activation: str) -> Networks:
        """The conditional counterparts of the networks the wrapped loss builds (probed on the meta device)."""
        with torch.device("meta"):
            plain = self.loss.build_networks(image_shape, z_dim, discriminator_batchnorm, generator_activation)
        arguments = (image_shape, z_dim, discriminator_batchnorm, generator_activation, self.num_classes, self.head)
        return Networks(conditional_counterpart(plain.generator, *arguments),
                        conditional_counterpart(plain.discriminator, *arguments))

    def train_step(self, nets: Networks, optimizers: Optimizers, real: Tensor, z: Tensor, update_generator: bool,
                   sample_z: Callable[[], Tensor], *, real_labels: Tensor, fake_labels: Tensor) -> dict[str, Tensor]:
        """The wrapped loss's step on label-bound views; `real_labels` (N,) of `real`, `fake_labels` (N,) for G.

        The G step reuses the step's fake labels (also where a loss draws a fresh z for it, as WGAN-GP).
        """
        routing = LabelRouting(real, real_labels, real_labels if self.owns_its_step else fake_labels)
        views = LabelledNetworks(LabelledGenerator(nets.generator, routing),
                                 LabelledDiscriminator(nets.discriminator, routing), routing)
        if self.owns_its_step:
            return self.loss.train_step(views, optimizers, real, z, update_generator, sample_z)
        return super().train_step(views, optimizers, real, z, update_generator, sample_z)

    def draw_noise(self, real: Tensor, z: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        return self.loss.draw_noise(real, z, generator)

    def discriminator_loss(self, nets: LabelledNetworks, real: Tensor, z: Tensor,
                           draws: dict[str, Tensor] | None = None) -> LossOutput:
        nets.routing.forget_class_logits()
        loss, logs = (self.loss.discriminator_loss(nets, real, z) if draws is None else
                      self.loss.discriminator_loss(nets, real, z, draws=draws))
        kinds = ("real", "fake") if self.classify_fakes else ("real",)
        return self._with_class_loss(loss, logs, nets.routing, kinds, "class_loss_d")

    def generator_loss(self, nets: LabelledNetworks, real: Tensor, z: Tensor) -> LossOutput:
        nets.routing.forget_class_logits()
        loss, logs = self.loss.generator_loss(nets, real, z)
        return self._with_class_loss(loss, logs, nets.routing, ("fake",), "class_loss_g")

    def after_discriminator_step(self, nets: Networks) -> None:
        self.loss.after_discriminator_step(nets)

    def after_train_step(self, nets: Networks, real: Tensor, z: Tensor) -> dict[str, Tensor]:
        return self.loss.after_train_step(nets, real, z)

    def _with_class_loss(self, loss: Tensor, logs: dict[str, Tensor], routing: LabelRouting,
                         kinds: tuple[str, ...], name: str) -> LossOutput:
        labels = {"real": routing.real_labels, "fake": routing.fake_labels}
        terms = [class_cross_entropy(routing.class_logits[kind], labels[kind])
                 for kind in kinds if routing.class_logits[kind]]
        if not terms:  # the projection head: no class logits
            return LossOutput(loss, logs)
        class_loss = torch.stack(terms).sum()
        return LossOutput(loss + self.aux_weight * class_loss, {**logs, name: class_loss})
