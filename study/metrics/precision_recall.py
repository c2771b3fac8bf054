"""Precision and recall on real images: k-NN balls around feature vectors (the FID pass's features).

* Improved precision and recall (Kynkäänniemi et al., NeurIPS 2019): the real manifold is the union of
  balls around each real feature reaching its k-th nearest real neighbour (k = 3); precision is the
  fraction of generated features inside it, recall the fraction of real features inside the generated
  manifold built the same way. Membership is ‖x − c‖ ≤ radius, as their code.
* Density and coverage (Naeem et al., ICML 2020, k = 5): only real balls (generated outliers cannot inflate
  anything); density = (1 / kM) Σ_generated (number of real balls holding it), which is ≈ 1 for identical
  distributions and may exceed 1; coverage = fraction of real balls holding at least one generated feature.
  Membership is ‖x − c‖ < radius, as their code.

Both sweep the generated × real distances in row chunks (neighbours.py), never holding the full matrix.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from gan_study.models.checks import integer
from gan_study.study.metrics.measures import Measure, MeasureInputs, register_measure, reject_unknown
from gan_study.study.metrics.neighbours import kth_neighbour_distances, row_chunks, squared_distances


def _check(real: torch.Tensor, fake: torch.Tensor, k: int) -> None:
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake must be (n, d) feature matrices of one d, got shapes "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"k = {k!r} is not allowed: an integer between 1 and min(n_real, n_fake) - 1 = "
                         f"{min(len(real), len(fake)) - 1}")


def improved_precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """(precision, recall) of fake (m, d) against real (n, d) features, Kynkäänniemi et al. 2019."""
    _check(real, fake, k)
    fake = fake.to(real.device, real.dtype)
    real_radii2 = kth_neighbour_distances(real, k).square()
    fake_radii2 = kth_neighbour_distances(fake, k).square()
    real_norms = (real * real).sum(dim=1)
    precise = torch.zeros(len(fake), dtype=torch.bool, device=real.device)
    recalled = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    for rows in row_chunks(len(fake), len(real)):
        block = squared_distances(fake[rows], real, real_norms)
        precise[rows] = (block <= real_radii2[None, :]).any(dim=1)
        recalled |= (block <= fake_radii2[rows, None]).any(dim=0)
    return float(precise.double().mean()), float(recalled.double().mean())


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """(density, coverage) of fake (m, d) against real (n, d) features, Naeem et al. 2020."""
    _check(real, fake, k)
    fake = fake.to(real.device, real.dtype)
    real_radii2 = kth_neighbour_distances(real, k).square()
    real_norms = (real * real).sum(dim=1)
    inside_balls = 0
    covered = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    for rows in row_chunks(len(fake), len(real)):
        inside = squared_distances(fake[rows], real, real_norms) < real_radii2[None, :]
        inside_balls += int(inside.sum())
        covered |= inside.any(dim=0)
    return inside_balls / (k * len(fake)), float(covered.double().mean())


def neighbourhood_size(k: Any) -> int:
    return integer("k", k, 1)


class _NeighbourhoodMeasure(Measure):
    """A pair of k-NN ball measures on the FID pass's features: one option k, one function computing the pair."""

    reference: str
    ball: str
    compute: Callable[[torch.Tensor, torch.Tensor, int], tuple[float, float]]
    """The pair, in the order of `objectives`."""

    def __init__(self, k: int, unknown: dict[str, Any]):
        reject_unknown(type(self), unknown)
        self.k = neighbourhood_size(k)

    def evaluate(self, inputs: MeasureInputs) -> dict[str, float]:
        return dict(zip(self.objectives, self.compute(inputs.real, inputs.fake, self.k)))

    def card(self) -> dict[str, Any]:
        return {"reference": self.reference, "k": self.k, "ball": self.ball,
                "features": "the FID pass's reference and generated features (float32)"}


@register_measure("precision_recall")
class ImprovedPrecisionRecall(_NeighbourhoodMeasure):
    """`improved_precision`, `improved_recall` (Kynkäänniemi et al. 2019); option k (3)."""

    objectives = {"improved_precision": "maximize", "improved_recall": "maximize"}
    reference = ("Kynkäänniemi et al., Improved Precision and Recall Metric for Assessing Generative Models, "
                 "NeurIPS 2019")
    ball = "distance <= k-th nearest-neighbour distance"
    compute = staticmethod(improved_precision_recall)

    def __init__(self, k: int = 3, **unknown: Any):
        super().__init__(k, unknown)


@register_measure("density_coverage")
class DensityCoverage(_NeighbourhoodMeasure):
    """`density`, `coverage` (Naeem et al. 2020); option k (5)."""

    objectives = {"density": "maximize", "coverage": "maximize"}
    reference = "Naeem et al., Reliable Fidelity and Diversity Metrics for Generative Models, ICML 2020"
    ball = "distance < k-th nearest real neighbour distance (real balls only)"
    compute = staticmethod(density_coverage)

    def __init__(self, k: int = 5, **unknown: Any):
        super().__init__(k, unknown)
