"""The Fréchet distance between two Gaussians, exact and fast (TF-GAN's formula, paper_spec §6.1).

    d² = ‖μ_r − μ_g‖² + Tr Σ_r + Tr Σ_g − 2·Tr sqrt(Σ_r Σ_g)

Σ_r Σ_g is not symmetric, so `scipy.linalg.sqrtm` (pytorch-fid) needs a general Schur decomposition
of a 2048×2048 matrix at every evaluation. TF-GAN's identity avoids it: with A = sqrt(Σ_r) (symmetric),
Σ_r Σ_g = A·(A Σ_g) has the eigenvalues of the symmetric PSD matrix A Σ_g A, so

    Tr sqrt(Σ_r Σ_g) = Σ_i sqrt(λ_i(A Σ_g A)).

A depends on the real data only and is cached with the real statistics; each evaluation then costs two
matrix products and one symmetric eigenvalue solve (`torch.linalg.eigvalsh`), in float64, on the GPU
when there is one.

Eigenvalues of a PSD matrix computed in floating point can come out slightly negative (rank-deficient
covariances: fewer samples than dimensions, constant features). They are clamped to 0 before the
square root, both for A and for A Σ_g A; TF-GAN instead leaves singular values below 1e-10 un-rooted,
a difference below 1e-5 per such value.
"""
from __future__ import annotations

import numpy as np
import torch

ArrayLike = torch.Tensor | np.ndarray


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _as_float64(array: ArrayLike, device: torch.device) -> torch.Tensor:
    tensor = array if isinstance(array, torch.Tensor) else torch.from_numpy(np.asarray(array))
    return tensor.to(device=device, dtype=torch.float64)


def symmetric_sqrt(matrix: ArrayLike, device: torch.device | None = None) -> torch.Tensor:
    """The PSD square root A of a symmetric PSD matrix (A·A = matrix), by eigendecomposition, float64."""
    device = device or default_device()
    sym = _as_float64(matrix, device)
    sym = (sym + sym.T) / 2
    eigenvalues, eigenvectors = torch.linalg.eigh(sym)
    return (eigenvectors * eigenvalues.clamp(min=0).sqrt()) @ eigenvectors.T


def trace_sqrt_product(sqrt_sigma_r: ArrayLike, sigma_g: ArrayLike, device: torch.device | None = None) -> float:
    """Tr sqrt(Σ_r Σ_g) given A = sqrt(Σ_r): Σ sqrt(eigenvalues of the symmetric matrix A Σ_g A)."""
    device = device or default_device()
    a = _as_float64(sqrt_sigma_r, device)
    product = a @ _as_float64(sigma_g, device) @ a
    eigenvalues = torch.linalg.eigvalsh((product + product.T) / 2)
    return float(eigenvalues.clamp(min=0).sqrt().sum())


def frechet_distance_with_sqrt(mu_r: ArrayLike, sigma_r: ArrayLike, sqrt_sigma_r: ArrayLike,
                               mu_g: ArrayLike, sigma_g: ArrayLike, device: torch.device | None = None) -> float:
    """The Fréchet distance when A = sqrt(Σ_r) is already known (the cached real statistics)."""
    device = device or default_device()
    mu_r, mu_g = _as_float64(mu_r, device), _as_float64(mu_g, device)
    sigma_r, sigma_g = _as_float64(sigma_r, device), _as_float64(sigma_g, device)
    _check_shapes(mu_r, sigma_r, mu_g, sigma_g)
    mean_term = float(((mu_r - mu_g) ** 2).sum())
    traces = float(torch.trace(sigma_r) + torch.trace(sigma_g))
    return mean_term + traces - 2.0 * trace_sqrt_product(sqrt_sigma_r, sigma_g, device)


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike,
                     device: torch.device | None = None) -> float:
    """Fréchet distance d²(N(mu1, sigma1), N(mu2, sigma2)) in float64 (numpy arrays or tensors)."""
    device = device or default_device()
    return frechet_distance_with_sqrt(mu1, sigma1, symmetric_sqrt(sigma1, device), mu2, sigma2, device)


def _check_shapes(mu_r: torch.Tensor, sigma_r: torch.Tensor, mu_g: torch.Tensor, sigma_g: torch.Tensor) -> None:
    d = mu_r.shape[0]
    expected = {"mu1": (d,), "sigma1": (d, d), "mu2": (d,), "sigma2": (d, d)}
    actual = {"mu1": mu_r.shape, "sigma1": sigma_r.shape, "mu2": mu_g.shape, "sigma2": sigma_g.shape}
    for name, shape in actual.items():
        if tuple(shape) != expected[name]:
            raise ValueError(f"frechet_distance: {name} has shape {tuple(shape)}, expected {expected[name]} "
                             f"(the statistics of {d}-d features)")
