"""Known answers for the Fréchet distance, and agreement with scipy's sqrtm (pytorch-fid) and a brute force."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_fid.fid_score import calculate_frechet_distance as scipy_sqrtm_fid

from fid_testkit import brute_force_fid
from gan_study.study.metrics.fid import covariance_root, frechet_distance, frechet_distance_with_sqrt, symmetric_sqrt

CPU = torch.device("cpu")


def random_spd(d: int, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    """Sample covariance of n >= d Gaussian samples with a random mixing matrix: SPD, well conditioned."""
    samples = rng.normal(size=(n or 4 * d, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d)))
    return np.cov(samples, rowvar=False)


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=32), random_spd(32, rng)
    assert abs(frechet_distance(mu, sigma, mu, sigma, CPU)) < 1e-8


def test_diagonal_covariances_match_the_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 5, size=20), rng.uniform(0.1, 5, size=20)
    mu1, mu2 = rng.normal(size=20), rng.normal(size=20)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b), CPU) == pytest.approx(expected, rel=1e-10)


def test_commuting_covariances_match_the_closed_form():
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(24, 24)))
    a, b = rng.uniform(0.05, 3, size=24), rng.uniform(0.05, 3, size=24)
    sigma1, sigma2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    mu = rng.normal(size=24)
    expected = ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu, sigma1, mu, sigma2, CPU) == pytest.approx(expected, rel=1e-9)


def test_translation_only_gives_the_squared_mean_distance():
    rng = np.random.default_rng(3)
    sigma, mu = random_spd(16, rng), rng.normal(size=16)
    shift = rng.normal(size=16)
    assert frechet_distance(mu, sigma, mu + shift, sigma, CPU) == pytest.approx((shift ** 2).sum(), rel=1e-9)


@pytest.mark.parametrize("d", [8, 64, 160])
def test_random_spd_agrees_with_scipy_sqrtm_and_brute_force(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d) * 0.5
    sigma1, sigma2 = random_spd(d, rng), random_spd(d, rng) * 0.7
    ours = frechet_distance(mu1, sigma1, mu2, sigma2, CPU)
    assert ours == pytest.approx(scipy_sqrtm_fid(mu1, sigma1, mu2, sigma2), rel=1e-6)
    assert ours == pytest.approx(brute_force_fid(mu1, sigma1, mu2, sigma2), rel=1e-8)


def test_every_root_of_the_real_covariance_gives_the_same_distance():
    """Cholesky factor (cached for positive definite Σ_r), symmetric root (TF-GAN's), one-shot function."""
    rng = np.random.default_rng(4)
    mu1, mu2, sigma1, sigma2 = rng.normal(size=12), rng.normal(size=12), random_spd(12, rng), random_spd(12, rng)
    symmetric, cholesky = symmetric_sqrt(sigma1, CPU), covariance_root(sigma1, CPU)
    np.testing.assert_allclose((symmetric @ symmetric).numpy(), sigma1, rtol=1e-10, atol=1e-12)
    assert torch.equal(cholesky, cholesky.tril())
    np.testing.assert_allclose((cholesky @ cholesky.T).numpy(), sigma1, rtol=1e-10, atol=1e-12)
    one_shot = frechet_distance(mu1, sigma1, mu2, sigma2, CPU)
    for root in (symmetric, cholesky):
        assert frechet_distance_with_sqrt(mu1, sigma1, root, mu2, sigma2, CPU) == pytest.approx(one_shot, rel=1e-12)


def test_a_singular_covariance_falls_back_to_the_symmetric_root():
    x = np.random.default_rng(6).normal(size=(5, 8))
    sigma = np.cov(x, rowvar=False)  # rank 4 < 8: no Cholesky factor
    root = covariance_root(sigma, CPU)
    assert torch.allclose(root, root.T)
    np.testing.assert_allclose((root @ root).numpy(), sigma, atol=1e-10)


def test_rank_deficient_covariances_stay_finite_and_match_brute_force():
    """Fewer samples than dimensions: eigenvalues ≈ 0 (some slightly negative) are clamped, not NaN."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(10, 30)), rng.normal(size=(10, 30)) + 0.2
    args = x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False)
    ours = frechet_distance(*args, CPU)
    assert np.isfinite(ours)
    assert ours == pytest.approx(brute_force_fid(*args), rel=1e-6)


def test_accepts_tensors_and_rejects_mismatched_shapes():
    mu, sigma = torch.zeros(4), torch.eye(4)
    assert frechet_distance(mu, sigma, mu + 1, sigma, CPU) == pytest.approx(4.0)
    with pytest.raises(ValueError, match=r"sigma2 has shape \(3, 3\), expected \(4, 4\)"):
        frechet_distance(mu, sigma, mu, torch.eye(3), CPU)
