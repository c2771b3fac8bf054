"""Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD² with the cubic polynomial kernel

    k(x, y) = (x·y / d + 1)³,

averaged over random subsets (as their code and torch-fidelity: 100 subsets of 1000 by default), in
float64. Unlike FID it is unbiased in the sample size, so its values are comparable across n.
"""
from __future__ import annotations

import torch


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD² estimate between samples x (m, d) and y (n, d): diagonal terms of k(x,x), k(y,y) left out."""
    x, y = x.to(torch.float64), y.to(torch.float64)
    m, n = len(x), len(y)
    kxx, kyy = polynomial_kernel(x, x), polynomial_kernel(y, y)
    within_x = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    within_y = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * polynomial_kernel(x, y).mean())


def kernel_inception_distance(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """(mean, population sd) of the unbiased MMD² over `subsets` random subsets (drawn without replacement,
    independently for real and fake, from a generator seeded by `seed`). One subset of the full size uses
    every sample."""
    if subset_size < 2 or subset_size > min(len(real), len(fake)):
        raise ValueError(f"kid: subset_size = {subset_size} is not allowed: between 2 and "
                         f"min(n_real, n_generated) = {min(len(real), len(fake))}")
    generator = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        pick_real = torch.randperm(len(real), generator=generator)[:subset_size].to(real.device)
        pick_fake = torch.randperm(len(fake), generator=generator)[:subset_size].to(fake.device)
        values.append(mmd2_unbiased(real[pick_real], fake[pick_fake]))
    scores = torch.tensor(values, dtype=torch.float64)
    return float(scores.mean()), float(scores.std(unbiased=False))
