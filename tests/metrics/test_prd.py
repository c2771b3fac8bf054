"""PRD curves (Sajjadi et al. 2018): closed forms of the histogram curve, and the end points on features."""
from __future__ import annotations

import math

import pytest
import torch

from gan_study.study.metrics.prd import kmeans_labels, max_f_beta, prd_curve, prd_from_histograms


def gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) + shift


def test_identical_distributions_reach_one_one():
    real = gaussian(400, 8, seed=0)
    curve = prd_curve(real, real.clone())
    assert curve.f_8 == pytest.approx(1.0, abs=1e-9) and curve.f_1_8 == pytest.approx(1.0, abs=1e-9)
    at_one = (curve.precision > 1 - 1e-9) & (curve.recall > 1 - 1e-9)
    assert bool(at_one.any())  # the point at slope λ = 1 (θ = π/4) is (1, 1)


def test_disjoint_distributions_stay_at_zero():
    curve = prd_curve(gaussian(400, 8, seed=1), gaussian(400, 8, seed=2, shift=100.0))
    assert curve.f_8 == 0.0 and curve.f_1_8 == 0.0
    assert float(curve.precision.max()) == 0.0 and float(curve.recall.max()) == 0.0


def test_histogram_curve_matches_its_closed_form():
    """P = (½, ½, 0), Q = (½, 0, ½): α(λ) = min(λ, 1)/2, β = α/λ; so F_β's max is at λ = 1 where P = R = ½."""
    real, fake = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64), torch.tensor([0.5, 0.0, 0.5], dtype=torch.float64)
    precision, recall = prd_from_histograms(real, fake, 1001)
    slopes = torch.tan(torch.linspace(1e-10, math.pi / 2 - 1e-10, 1001, dtype=torch.float64))
    assert torch.allclose(precision, torch.minimum(slopes, torch.ones_like(slopes)) / 2)
    assert torch.allclose(recall, torch.minimum(slopes, torch.ones_like(slopes)) / 2 / slopes)
    assert max_f_beta(precision, recall, 8.0) == pytest.approx(0.5, abs=1e-3)


def test_dropping_half_the_modes_keeps_precision_and_halves_recall():
    """Real: 4 far-apart modes; fake: 2 of them. β(λ→∞) → ½ (recall); α(λ) → 1 at small λ (precision)."""
    centres = torch.tensor([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0], [50.0, 50.0]])
    noise = torch.Generator().manual_seed(3)
    real = centres.repeat_interleave(100, 0) + torch.randn(400, 2, generator=noise)
    fake = centres[:2].repeat_interleave(200, 0) + torch.randn(400, 2, generator=noise)
    curve = prd_curve(real, fake, clusters=4, runs=3)
    assert float(curve.precision.max()) == pytest.approx(1.0, abs=1e-6)
    assert float(curve.recall.max()) == pytest.approx(0.5, abs=1e-6)
    assert curve.f_1_8 > 0.98 and curve.f_8 < 0.51


def test_kmeans_finds_separated_clusters():
    centres = torch.tensor([[0.0, 0.0], [30.0, 0.0], [0.0, 30.0]])
    x = centres.repeat_interleave(50, 0) + torch.randn(150, 2, generator=torch.Generator().manual_seed(4))
    labels = kmeans_labels(x, 3, torch.Generator().manual_seed(0))
    for part in labels.view(3, 50):
        assert len(set(part.tolist())) == 1
    assert len(set(labels.tolist())) == 3


def test_bad_clusters_is_named():
    with pytest.raises(ValueError, match="clusters = 1"):
        prd_curve(gaussian(10, 2, 0), gaussian(10, 2, 1), clusters=1)
