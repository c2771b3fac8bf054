"""Improved precision/recall (k = 3) and density/coverage (k = 5) against a brute-force numpy version and closed forms."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_study.study.metrics import neighbours
from gan_study.study.metrics.precision_recall import density_coverage, improved_precision_recall


def brute_force(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> tuple[float, float, float, float]:
    """The four values from the papers' definitions: full distance matrices, sorted rows, explicit loops."""
    def distances(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    def radii(x, k):
        return np.sort(distances(x, x), axis=1)[:, k]  # column 0 is the point itself

    real_fake = distances(real, fake)
    r_pr, f_pr, r_dc = radii(real, k_pr), radii(fake, k_pr), radii(real, k_dc)
    precision = np.mean([any(real_fake[i, j] <= r_pr[i] for i in range(len(real))) for j in range(len(fake))])
    recall = np.mean([any(real_fake[i, j] <= f_pr[j] for j in range(len(fake))) for i in range(len(real))])
    density = sum(real_fake[i, j] < r_dc[i] for i in range(len(real)) for j in range(len(fake))) / (k_dc * len(fake))
    coverage = np.mean([any(real_fake[i, j] < r_dc[i] for j in range(len(fake))) for i in range(len(real))])
    return precision, recall, density, coverage


def gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + shift


@pytest.mark.parametrize("chunk_elements", [1 << 26, 7 * 150])  # one block; many blocks of 7 rows
def test_values_equal_a_brute_force_implementation(monkeypatch, chunk_elements):
    monkeypatch.setattr(neighbours, "CHUNK_ELEMENTS", chunk_elements)
    real, fake = gaussian(150, 5, seed=0), gaussian(120, 5, seed=1, shift=0.4)
    expected = brute_force(real.numpy(), fake.numpy(), 3, 5)
    got = (*improved_precision_recall(real, fake, k=3), *density_coverage(real, fake, k=5))
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0.3 < expected[0] < 0.95 and 0.3 < expected[1] < 0.95  # a case where the balls matter


def test_identical_sets_have_precision_recall_and_coverage_one():
    real = gaussian(300, 16, seed=2)
    assert improved_precision_recall(real, real.clone()) == (1.0, 1.0)
    density, coverage = density_coverage(real, real.clone())
    assert coverage == 1.0
    assert density >= 1.0  # every point lies in its own ball, plus in those of its neighbours


def test_far_apart_gaussians_score_zero():
    real, fake = gaussian(300, 16, seed=3), gaussian(300, 16, seed=4, shift=50.0)
    assert improved_precision_recall(real, fake) == (0.0, 0.0)
    assert density_coverage(real, fake) == (0.0, 0.0)


def test_covering_half_the_real_modes_halves_recall_and_coverage_but_not_precision():
    """10 far-apart modes in 2-d; the fake set samples only modes 0-4. Recall and coverage ≈ 0.5: the missing
    modes' real points (exactly half) are outside every fake ball, and within the covered modes the fake balls
    (k = 3 of 400 points per mode in 2-d) leave out only a few boundary points (stated tolerance: 0.05)."""
    generator = torch.Generator().manual_seed(5)
    centres = torch.arange(10, dtype=torch.float64)[:, None] * torch.tensor([[100.0, 0.0]])
    real = (centres.repeat_interleave(200, 0) + torch.randn(2000, 2, generator=generator, dtype=torch.float64))
    fake = (centres[:5].repeat_interleave(400, 0) + torch.randn(2000, 2, generator=generator, dtype=torch.float64))
    precision, recall = improved_precision_recall(real, fake)
    density, coverage = density_coverage(real, fake)
    assert recall <= 0.5 and recall == pytest.approx(0.5, abs=0.05)
    assert coverage <= 0.5 and coverage == pytest.approx(0.5, abs=0.05)
    assert precision > 0.95 and density > 0.9


def test_float32_features_on_the_chunked_path_agree_with_float64():
    real, fake = gaussian(400, 64, seed=6), gaussian(400, 64, seed=7, shift=0.2)
    assert improved_precision_recall(real.float(), fake.float()) == pytest.approx(
        improved_precision_recall(real, fake), abs=2 / 400)


@pytest.mark.parametrize("k", [0, 300, 2.5, True])
def test_bad_k_is_named(k):
    with pytest.raises(ValueError, match="k = "):
        improved_precision_recall(gaussian(300, 4, 0), gaussian(300, 4, 1), k=k)
