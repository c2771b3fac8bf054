"""Precision and recall for distributions (PRD, Sajjadi et al., NeurIPS 2018) from k-means histograms.

The pooled real and generated features are clustered by k-means (20 clusters); the two cluster
histograms P (real) and Q (generated) give, for each angle θ in (0, π/2) with λ = tan θ, the point

    α(λ) = Σ_i min(λ P_i, Q_i)   (precision),   β(λ) = α(λ) / λ   (recall),

averaged over 10 clusterings. Identical distributions reach (1, 1); disjoint ones stay at (0, 0). The
summary is F_β's maximum over the curve for β = 8 (weights recall: does G cover the data?) and β = 1/8
(weights precision: are G's samples in the data?), as their code. Clustering is our own seeded k-means++
and Lloyd iterations in torch (their code: scikit-learn's MiniBatchKMeans, 10 initialisations).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from gan_study.models.checks import integer
from gan_study.study.metrics.measures import Measure, MeasureInputs, register_measure, reject_unknown, write_artefact
from gan_study.study.metrics.neighbours import squared_distances

EPSILON = 1e-10
KMEANS_ITERATIONS = 100
ARTEFACT = "prd.json"


@dataclass
class PRDCurve:
    precision: torch.Tensor
    """(angles,) float64, averaged over the clusterings."""
    recall: torch.Tensor
    f_8: float
    f_1_8: float


def kmeans_labels(x: torch.Tensor, clusters: int, generator: torch.Generator) -> torch.Tensor:
    """Cluster index of each row of x: k-means++ seeding, then Lloyd iterations until no label changes.
    Distances and centre sums are matrix products (x's squared norms computed once)."""
    norms = (x * x).sum(dim=1)

    def nearest_centre(centres: torch.Tensor) -> torch.Tensor:
        return squared_distances(centres, x, norms).argmin(dim=0)

    first = int(torch.randint(len(x), (1,), generator=generator))
    centres = x[first:first + 1]
    nearest2 = squared_distances(centres, x, norms)[0]
    for _ in range(1, clusters):
        weights = nearest2.double().cpu()
        pick = int(torch.multinomial(weights / weights.sum(), 1, generator=generator)) if weights.sum() > 0 else \
            int(torch.randint(len(x), (1,), generator=generator))
        centres = torch.cat([centres, x[pick:pick + 1]])
        nearest2 = torch.minimum(nearest2, squared_distances(x[pick:pick + 1], x, norms)[0])
    labels = nearest_centre(centres)
    for _ in range(KMEANS_ITERATIONS):
        members = torch.nn.functional.one_hot(labels, clusters).to(x.dtype)  # (n, clusters)
        counts = members.sum(dim=0)
        centres = torch.where(counts[:, None] > 0, (members.T @ x) / counts.clamp_min(1)[:, None], centres)
        updated = nearest_centre(centres)
        if torch.equal(updated, labels):
            break
        labels = updated
    return labels


def prd_from_histograms(real: torch.Tensor, fake: torch.Tensor, angles: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(precision, recall) over `angles` slopes of two histograms that each sum to 1, float64."""
    slopes = torch.tan(torch.linspace(EPSILON, math.pi / 2 - EPSILON, angles, dtype=torch.float64))
    precision = torch.minimum(real[None, :] * slopes[:, None], fake[None, :]).sum(dim=1)
    recall = precision / slopes
    return precision.clamp(0, 1), recall.clamp(0, 1)


def max_f_beta(precision: torch.Tensor, recall: torch.Tensor, beta: float) -> float:
    """max over the curve of F_β = (1 + β²) P R / (β² P + R), 0 where P = R = 0."""
    denominator = beta ** 2 * precision + recall
    f = torch.where(denominator > 0, (1 + beta ** 2) * precision * recall / denominator.clamp_min(EPSILON), 0.0)
    return float(f.max())


def prd_curve(real: torch.Tensor, fake: torch.Tensor, clusters: int = 20, runs: int = 10, angles: int = 1001,
              seed: int = 0) -> PRDCurve:
    """The PRD curve of fake (m, d) against real (n, d) features and its F_8 / F_1/8 summary."""
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake must be (n, d) feature matrices of one d, got shapes "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}")
    if not 2 <= clusters <= len(real) + len(fake):
        raise ValueError(f"clusters = {clusters} is not allowed: between 2 and the pooled sample size")
    pooled = torch.cat([real, fake.to(real.device, real.dtype)])
    generator = torch.Generator().manual_seed(seed)
    precision = torch.zeros(angles, dtype=torch.float64)
    recall = torch.zeros(angles, dtype=torch.float64)
    for _ in range(runs):
        labels = kmeans_labels(pooled, clusters, generator).cpu()
        real_histogram = torch.bincount(labels[:len(real)], minlength=clusters).double() / len(real)
        fake_histogram = torch.bincount(labels[len(real):], minlength=clusters).double() / len(fake)
        run_precision, run_recall = prd_from_histograms(real_histogram, fake_histogram, angles)
        precision += run_precision / runs
        recall += run_recall / runs
    return PRDCurve(precision, recall, max_f_beta(precision, recall, 8.0), max_f_beta(precision, recall, 1 / 8))


@register_measure("prd")
class PRD(Measure):
    """`prd_f8`, `prd_f1_8`; the curve of the last evaluation goes to the run's `measures/prd.json` (the report's
    figure). Options: clusters (20), runs (10), angles (1001), seed (0), as Sajjadi et al.'s code."""

    objectives = {"prd_f8": "maximize", "prd_f1_8": "maximize"}

    def __init__(self, clusters: int = 20, runs: int = 10, angles: int = 1001, seed: int = 0, **unknown: Any):
        reject_unknown(PRD, unknown)
        for name, value, minimum in (("clusters", clusters, 2), ("runs", runs, 1), ("angles", angles, 2),
                                     ("seed", seed, 0)):
            integer(f"measures.prd.{name}", value, minimum)
        self.clusters, self.runs, self.angles, self.seed = clusters, runs, angles, seed

    def evaluate(self, inputs: MeasureInputs) -> dict[str, float]:
        curve = prd_curve(inputs.real, inputs.fake, self.clusters, self.runs, self.angles, self.seed)
        if inputs.artefacts is not None:
            write_artefact(inputs.artefacts, ARTEFACT, {
                "precision": curve.precision.tolist(), "recall": curve.recall.tolist(), "prd_f8": curve.f_8,
                "prd_f1_8": curve.f_1_8, "n_real": len(inputs.real), "n_generated": len(inputs.fake),
                "clusters": self.clusters, "runs": self.runs})
        return {"prd_f8": curve.f_8, "prd_f1_8": curve.f_1_8}

    def card(self) -> dict[str, Any]:
        return {"reference": "Sajjadi et al., Assessing Generative Models via Precision and Recall, NeurIPS 2018",
                "clustering": "k-means++ then Lloyd (torch, seeded) on the pooled real + generated features",
                "clusters": self.clusters, "runs": self.runs, "angles": self.angles, "seed": self.seed,
                "summary": "max F_8 (recall-weighted) and max F_1/8 (precision-weighted) over the averaged curve",
                "curve_file": f"measures/{ARTEFACT} of the run folder (last evaluation)"}
