"""Gaussian statistics of a feature set: float64 mean and covariance with 1/(n − 1), as the paper's code."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class FeatureStatistics:
    """Mean (d,) and covariance (d, d) of n feature vectors, float64; `covariance_root` (a root F with
    F Fᵀ = covariance, fid.covariance_root) when cached for FID."""

    mean: torch.Tensor
    covariance: torch.Tensor
    n: int
    covariance_root: torch.Tensor | None = None

    @classmethod
    def of(cls, features: torch.Tensor) -> FeatureStatistics:
        """Statistics of (n, d) features; accumulated in float64 on the features' device."""
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError(f"feature statistics need an (n >= 2, d) matrix, got shape {tuple(features.shape)}")
        x = features.to(torch.float64)
        mean = x.mean(dim=0)
        centred = x - mean
        covariance = centred.T @ centred / (x.shape[0] - 1)
        return cls(mean, covariance, int(x.shape[0]))

    def to(self, device: torch.device | str) -> FeatureStatistics:
        root = None if self.covariance_root is None else self.covariance_root.to(device)
        return FeatureStatistics(self.mean.to(device), self.covariance.to(device), self.n, root)
