"""The loss a run trains, built from its validated config: the one place that turns `model` and `conditional`
into a `GANLoss` (training, batched trials, the architecture check of `study/config.py`, loaded generators)."""
from __future__ import annotations

from typing import Any, Protocol

from gan_study.models.losses import ConditionalLoss, GANLoss, get_loss
from gan_study.study.data import dataset_info


class LossSections(Protocol):
    """The sections of a validated run config (`study.config.TrainRunConfig`) the loss is built from. Named here,
    not imported: `study/config.py` imports this module for its architecture check, and imports run one way."""

    model: Any
    conditional: Any
    dataset: Any


def build_loss(run: LossSections) -> GANLoss:
    """The registered loss, wrapped in `ConditionalLoss` when conditioning is on."""
    loss = get_loss(run.model.name)(**run.model.loss_params)
    if not run.conditional.enabled:
        return loss
    options = run.conditional
    return ConditionalLoss(loss=loss, num_classes=dataset_info(run.dataset.name).num_classes, head=options.head,
                           aux_weight=options.aux_weight, classify_fakes=options.classify_fakes)
