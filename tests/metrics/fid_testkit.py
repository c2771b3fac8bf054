"""Small, deterministic inputs for the metric tests: labelled synthetic images (also registered as a data set),
tiny generators, evaluation contexts, and an independent (numpy) FID."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gan_study.study.data import ImageSet, register_dataset
from gan_study.study.metrics import EvalContext

SIZE = 16
CLASSES = 10
SYNTHETIC = "metrics_test_squares"


def squares(n: int, seed: int, name: str = SYNTHETIC, split: str = "train") -> ImageSet:
    """n gray 16×16 images: class c is a bright 5×5 square at one of 10 places, on a noisy dark background."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % CLASSES
    labels = labels[torch.randperm(n, generator=generator)]
    images = 0.15 * torch.rand(n, 1, SIZE, SIZE, generator=generator)
    for index, label in enumerate(labels.tolist()):
        row, col = 2 + 5 * (label // 5), 1 + 3 * (label % 5)
        images[index, 0, row:row + 5, col:col + 3] += 0.8
    return ImageSet(images.clamp(0, 1), labels, name, split)


@register_dataset(SYNTHETIC, (1, SIZE, SIZE), ("train", "test"), has_labels=True)
def _load_squares(root: Path, split: str, download: bool) -> ImageSet:
    return squares(400 if split == "train" else 300, seed=1 if split == "train" else 2, split=split)


class NoisySquares(torch.nn.Module):
    """A 'generator' whose samples are synthetic squares blurred toward noise by `noise` ∈ [0, 1]."""

    def __init__(self, noise: float):
        super().__init__()
        self.noise = noise
        self.bank = squares(CLASSES * 8, seed=3).images
        self.noise_bank = torch.rand(self.bank.shape, generator=torch.Generator().manual_seed(4))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        index = ((z[:, 0] + 1) * 1e4).long() % len(self.bank)
        return (1 - self.noise) * self.bank[index] + self.noise * self.noise_bank[index]


def fixed_latents(seed: int = 42, dim: int = 4):
    def eval_latents(n: int) -> torch.Tensor:
        return torch.rand(n, dim, generator=torch.Generator().manual_seed(seed)) * 2 - 1

    return eval_latents


def make_context(generator: torch.nn.Module, cache_dir: Path, n_reference: int = 300,
                 data_root: Path | None = None) -> EvalContext:
    return EvalContext(
        generator=generator,
        sample_z=lambda n, rng: torch.rand(n, 4, generator=rng) * 2 - 1,
        eval_latents=fixed_latents(),
        dataset_name=SYNTHETIC,
        reference=squares(n_reference, seed=2, split="test"),
        device=torch.device("cpu"),
        cache_dir=cache_dir,
        eval_seed=42,
        data_root=data_root,
    )


SMALL_ENCODER = {"epochs": 4, "train_size": 400, "batch_size": 32, "lr": 0.005, "width": 8, "feature_dim": 16}


def brute_force_fid(mu1, sigma1, mu2, sigma2) -> float:
    """Tr sqrt(Σ1 Σ2) as Σ sqrt(eigenvalues) of the non-symmetric product (numpy's general eig), float64."""
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


def expected_fid(real: torch.Tensor, fake: torch.Tensor):
    """FID of two feature sets with numpy's mean/cov (1/(n−1)) and the brute-force trace, as a pytest.approx.

    Small encoders have dead ReLU units, hence singular covariances, whose zero eigenvalues come out as
    ±1e-15-ish: their square roots (≈ 1e-7 each) are rounding noise in either method, so the tolerance is
    relative to the value (1e-6) or to the traces (1e-8), whichever is larger."""
    r, f = real.double().numpy(), fake.double().numpy()
    sigma_r, sigma_f = np.cov(r, rowvar=False), np.cov(f, rowvar=False)
    expected = brute_force_fid(r.mean(0), sigma_r, f.mean(0), sigma_f)
    return pytest.approx(expected, rel=1e-6, abs=1e-8 * (np.trace(sigma_r) + np.trace(sigma_f)))
