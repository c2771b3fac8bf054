"""Does the generator copy its training set? A data-copying test in the spirit of Meehan et al. (AISTATS 2020).

FID and IS cannot see it: a "memory GAN" that replays training images scores like the data itself. Here
each generated sample's distance to its nearest training image (in the encoder's feature space) is
compared with the same distance for held-out real images (the reference split, never trained on):

    score = Mann–Whitney Z of (generated distances) vs (held-out distances),

the normal approximation of the rank-sum U (tie-corrected), U counting the pairs in which the generated
sample is FARTHER from the training set. Z ≈ 0: generated samples are as close to the training set as
unseen real images are; Z ≪ 0: closer — copying; Z ≫ 0: farther (underfitting, not copying). The run is
flagged when Z < −threshold (default 3: a chance of ≈ 1e-3 under the null of no copying). This is the
unpartitioned form of Meehan et al.'s C_T (their test averages Z over k-means cells of the training set,
so that copying in one region is not hidden by underfitting elsewhere).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from gan_study.models.checks import integer, is_number
from gan_study.study.data.image_set import as_unit_float
from gan_study.study.metrics.measures import Measure, MeasureInputs, register_measure, reject_unknown, write_artefact
from gan_study.study.metrics.neighbours import nearest_neighbours

NEIGHBOURS_SHOWN = 3
ARTEFACT = "memorisation.npz"


@dataclass
class MemorisationTest:
    score: float
    """The Mann–Whitney Z: negative = generated samples closer to the training set than held-out images."""
    flagged: bool
    generated_distances: torch.Tensor
    """(m,) distance of each generated sample to its nearest training feature."""
    heldout_distances: torch.Tensor
    """(n,) the same for held-out real images."""
    nearest: torch.Tensor
    """(m, 3) indices of each generated sample's 3 nearest training images, nearest first."""


def mann_whitney_z(x: torch.Tensor, y: torch.Tensor) -> float:
    """Z of U = #{(i, j): x_i > y_j} + ½ #{x_i = y_j}, normal approximation with the tie correction, float64."""
    m, n = len(x), len(y)
    pooled = torch.cat([x, y]).double().cpu()
    values, inverse, counts = torch.unique(pooled, return_inverse=True, return_counts=True)
    first_rank = torch.cumsum(counts, 0) - counts + 1  # 1-based rank of each distinct value's first copy
    average_rank = first_rank.double() + (counts.double() - 1) / 2
    u = float(average_rank[inverse[:m]].sum()) - m * (m + 1) / 2
    total = m + n
    ties = float((counts.double() ** 3 - counts.double()).sum())
    variance = m * n / 12 * ((total + 1) - ties / (total * (total - 1)))
    return (u - m * n / 2) / math.sqrt(variance) if variance > 0 else 0.0


def memorisation_test(train: torch.Tensor, heldout: torch.Tensor, generated: torch.Tensor,
                      threshold: float = 3.0) -> MemorisationTest:
    """Nearest-training-image distances of generated (m, d) and held-out (n, d) features; train is (t, d)."""
    if not (train.ndim == heldout.ndim == generated.ndim == 2) or len({train.shape[1], heldout.shape[1],
                                                                        generated.shape[1]}) != 1:
        raise ValueError(f"memorisation needs (n, d) feature matrices of one d, got shapes {tuple(train.shape)}, "
                         f"{tuple(heldout.shape)}, {tuple(generated.shape)}")
    heldout = heldout.to(train.device, train.dtype)
    generated = generated.to(train.device, train.dtype)
    generated_distances, nearest = nearest_neighbours(generated, train, min(NEIGHBOURS_SHOWN, len(train)))
    heldout_distances = nearest_neighbours(heldout, train, 1)[0][:, 0]
    score = mann_whitney_z(generated_distances[:, 0], heldout_distances)
    return MemorisationTest(score, score < -threshold, generated_distances[:, 0].cpu(), heldout_distances.cpu(),
                            nearest.cpu())


@register_measure("memorisation")
class Memorisation(Measure):
    """`memorisation_score` (the Z above) and `memorisation_flag` (1.0 when Z < −threshold, else 0.0). Options:
    threshold (3.0), n_train (null: the whole training split), shown (8: samples written with their 3 nearest
    training images to the run's `measures/memorisation.npz`, the report's figure)."""

    objectives = {"memorisation_score": "maximize", "memorisation_flag": "minimize"}

    def __init__(self, threshold: float = 3.0, n_train: int | None = None, shown: int = 8, **unknown: Any):
        reject_unknown(Memorisation, unknown)
        if not is_number(threshold) or threshold <= 0:
            raise ValueError(f"measures.memorisation.threshold = {threshold!r} is not allowed: a positive number")
        self.threshold = float(threshold)
        self.n_train = None if n_train is None else integer("measures.memorisation.n_train", n_train, 3)
        self.shown = integer("measures.memorisation.shown", shown, 0)
        self.last: dict[str, Any] = {}

    def evaluate(self, inputs: MeasureInputs) -> dict[str, float]:
        train_features, train_images = inputs.train(self.n_train)
        test = memorisation_test(train_features.to(inputs.real.device), inputs.real, inputs.fake, self.threshold)
        self.last = {"n_train": len(train_features), "n_heldout": len(inputs.real), "n_generated": len(inputs.fake),
                     "training_split": f"{train_images.name}/{train_images.split}",
                     "median_nn_distance_generated": float(test.generated_distances.median()),
                     "median_nn_distance_heldout": float(test.heldout_distances.median())}
        if inputs.artefacts is not None and self.shown:
            closest = test.generated_distances.argsort()[:self.shown]
            write_artefact(inputs.artefacts, ARTEFACT, {
                "samples": inputs.generated_images(closest).numpy(),
                "neighbours": as_unit_float(train_images.images[test.nearest[closest].reshape(-1)]).reshape(
                    len(closest), test.nearest.shape[1], *train_images.images.shape[1:]).numpy(),
                "sample_distances": test.generated_distances[closest].numpy(),
                "heldout_median_distance": test.heldout_distances.median().numpy(),
                "score": test.score, "flagged": test.flagged, "threshold": self.threshold,
                "n_train": len(train_features), "n_generated": len(inputs.fake)})
        return {"memorisation_score": test.score, "memorisation_flag": float(test.flagged)}

    def card(self) -> dict[str, Any]:
        return {"reference": "Meehan, Chaudhuri, Dasgupta, A Non-Parametric Test to Detect Data-Copying in "
                             "Generative Models, AISTATS 2020 (unpartitioned form); figure as Shmelkov et al. 2018",
                "score": "Mann-Whitney Z (tie-corrected) of generated vs held-out (reference split) nearest-training-"
                         "image distances in the FID pass's feature space; < 0 = closer to the training set",
                "flag": f"score < -{self.threshold}", "threshold": self.threshold,
                "n_train_option": self.n_train, **self.last}
