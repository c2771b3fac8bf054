"""The Fréchet distance between two Gaussians, exact and fast (TF-GAN's formula, docs/protocol.md#fid-protocol).

    d² = ‖μ_r − μ_g‖² + Tr Σ_r + Tr Σ_g − 2·Tr sqrt(Σ_r Σ_g)

Σ_r Σ_g is not symmetric, so `scipy.linalg.sqrtm` (pytorch-fid) needs a general Schur decomposition
of a 2048×2048 matrix at every evaluation. TF-GAN's identity avoids it: for any square root F of Σ_r
(F Fᵀ = Σ_r), Σ_r Σ_g = F (Fᵀ Σ_g) has the eigenvalues of the symmetric PSD matrix Fᵀ Σ_g F, so

    Tr sqrt(Σ_r Σ_g) = Σ_i sqrt(λ_i(Fᵀ Σ_g F)).

F depends on the real data only and is cached with the real statistics; each evaluation then costs two
matrix products and one symmetric eigenvalue solve, in float64. TF-GAN takes F = A = sqrt(Σ_r), the
symmetric root (SVD). We take the Cholesky factor L when Σ_r is positive definite (the same eigenvalues;
triangular products cost half) and the symmetric root A by eigendecomposition otherwise.

The eigenvalue solve runs on the GPU (`torch.linalg.eigvalsh`) when the statistics are there. On the
CPU it calls LAPACK's MRRR solver (`dsyevr`) through scipy and the products use BLAS `dtrmm`: measured
2–3× faster than torch's CPU `eigvalsh` on this project's AMD machines (PyTorch's MKL; benchmarks/bench_fid.py).

Eigenvalues of a PSD matrix computed in floating point can come out slightly negative (rank-deficient
covariances: fewer samples than dimensions, constant features). They are clamped to 0 before the
square root, both for A and for Fᵀ Σ_g F; TF-GAN instead leaves singular values below 1e-10 un-rooted,
a difference below 1e-5 per such value.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

ArrayLike = torch.Tensor | np.ndarray


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _as_float64(array: ArrayLike, device: torch.device) -> torch.Tensor:
    tensor = array if isinstance(array, torch.Tensor) else torch.from_numpy(np.asarray(array))
    return tensor.to(device=device, dtype=torch.float64)


def _symmetric(matrix: torch.Tensor) -> torch.Tensor:
    return (matrix + matrix.T) / 2


def symmetric_sqrt(matrix: ArrayLike, device: torch.device | None = None) -> torch.Tensor:
    """The PSD square root A of a symmetric PSD matrix (A·A = matrix), by eigendecomposition, float64."""
    device = device or default_device()
    eigenvalues, eigenvectors = torch.linalg.eigh(_symmetric(_as_float64(matrix, device)))
    return (eigenvectors * eigenvalues.clamp(min=0).sqrt()) @ eigenvectors.T


def covariance_root(sigma: ArrayLike, device: torch.device | None = None) -> torch.Tensor:
    """A square root F of a covariance (F Fᵀ = Σ): its Cholesky factor when Σ is positive definite, else
    the symmetric PSD root. What the reference statistics cache."""
    device = device or default_device()
    sym = _symmetric(_as_float64(sigma, device))
    factor, info = torch.linalg.cholesky_ex(sym)
    return factor if int(info) == 0 else symmetric_sqrt(sym, device)


def _congruence(root: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Fᵀ Σ F, symmetrised; on the CPU with triangular BLAS products when F is lower triangular."""
    if root.device.type == "cpu" and torch.equal(root, root.tril()):
        f, s = np.asfortranarray(root.numpy()), np.asfortranarray(sigma.numpy())
        right = scipy.linalg.blas.dtrmm(1.0, f, s, side=1, lower=1)  # Σ F
        product = torch.from_numpy(scipy.linalg.blas.dtrmm(1.0, f, right, lower=1, trans_a=1))  # Fᵀ (Σ F)
    else:
        product = root.T @ sigma @ root
    return _symmetric(product)


def symmetric_eigenvalues(matrix: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of a symmetric float64 matrix: torch on the GPU, LAPACK dsyevr (via scipy) on the CPU."""
    if matrix.device.type == "cpu":
        values = scipy.linalg.eigh(matrix.numpy(), eigvals_only=True, driver="evr", check_finite=False)
        return torch.from_numpy(values)
    return torch.linalg.eigvalsh(matrix)


def trace_sqrt_product(root_r: ArrayLike, sigma_g: ArrayLike, device: torch.device | None = None) -> float:
    """Tr sqrt(Σ_r Σ_g) given a root F of Σ_r (F Fᵀ = Σ_r): Σ sqrt(eigenvalues of Fᵀ Σ_g F)."""
    device = device or default_device()
    product = _congruence(_as_float64(root_r, device), _as_float64(sigma_g, device))
    return float(symmetric_eigenvalues(product).clamp(min=0).sqrt().sum())


def frechet_distance_with_sqrt(mu_r: ArrayLike, sigma_r: ArrayLike, sqrt_sigma_r: ArrayLike,
                               mu_g: ArrayLike, sigma_g: ArrayLike, device: torch.device | None = None) -> float:
    """The Fréchet distance when a root F of Σ_r (F Fᵀ = Σ_r: `covariance_root` or the symmetric
    `symmetric_sqrt`) is already known, as with the cached real statistics."""
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
    return frechet_distance_with_sqrt(mu1, sigma1, covariance_root(sigma1, device), mu2, sigma2, device)


def _check_shapes(mu_r: torch.Tensor, sigma_r: torch.Tensor, mu_g: torch.Tensor, sigma_g: torch.Tensor) -> None:
    d = mu_r.shape[0]
    expected = {"mu1": (d,), "sigma1": (d, d), "mu2": (d,), "sigma2": (d, d)}
    actual = {"mu1": mu_r.shape, "sigma1": sigma_r.shape, "mu2": mu_g.shape, "sigma2": sigma_g.shape}
    for name, shape in actual.items():
        if tuple(shape) != expected[name]:
            raise ValueError(f"frechet_distance: {name} has shape {tuple(shape)}, expected {expected[name]} "
                             f"(the statistics of {d}-d features)")
