"""Class-conditional "generators" made of real images, whose GAN-train / GAN-test are known in advance.

The evaluation latents are the image numbers themselves (latent i = [i]), so a "generator" knows which
image of the sequence it is asked for: image i is requested with label i mod K (EvalContext.generate_labeled).
"""
from __future__ import annotations

from pathlib import Path

import torch

from gan_study.study.data import ImageSet, load_dataset
from gan_study.study.data.image_set import as_unit_float
from gan_study.study.metrics import EvalContext


def index_latents(n: int) -> torch.Tensor:
    """The latent of image i is [i]: the same sequence at every evaluation."""
    return torch.arange(n, dtype=torch.float32)[:, None]


class ExemplarGenerator:
    """Honours the label: image i of class y is the (i // K)-th image of class y in `pool` (cycling when a
    class has fewer), so the first n requests return distinct real images, balanced over the classes."""

    def __init__(self, pool: ImageSet, num_classes: int):
        self.by_class = [as_unit_float(pool.images[pool.labels == k]) for k in range(num_classes)]
        self.num_classes = num_classes

    def __call__(self, latents: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        numbers = latents[:, 0].long().cpu() // self.num_classes
        return torch.stack([self.by_class[int(y)][int(i) % len(self.by_class[int(y)])]
                            for i, y in zip(numbers, labels.cpu())]).to(latents.device)


class LabelBlindGenerator:
    """Ignores the label: image i is pool image order[i mod len(pool)], a seeded permutation of the pool, whatever
    its class."""

    def __init__(self, pool: ImageSet, seed: int = 0):
        self.images = as_unit_float(pool.images)
        self.order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))

    def __call__(self, latents: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        numbers = latents[:, 0].long().cpu() % len(self.order)
        return self.images[self.order[numbers]].to(latents.device)


class BalancedView(torch.nn.Module):
    """The unconditional view of a conditional generator (labels 0..K-1 cycling), for EvalContext.generator."""

    def __init__(self, conditional, num_classes: int):
        super().__init__()
        self.conditional, self.num_classes = conditional, num_classes

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        labels = torch.arange(len(latents), device=latents.device) % self.num_classes
        return self.conditional(latents, labels)


def digits_context(root: Path, cache_dir: Path, conditional, num_classes: int = 10) -> EvalContext:
    """An EvalContext of a conditional run on `dataset=mnist` under `root` (the digits as MNIST files)."""
    return EvalContext(
        generator=BalancedView(conditional, num_classes),
        sample_z=lambda n, rng: torch.randint(0, 1000, (n, 1), generator=rng).float(),
        eval_latents=index_latents, dataset_name="mnist", reference=load_dataset("mnist", root, "test"),
        device=torch.device("cpu"), cache_dir=Path(cache_dir), eval_seed=0, data_root=Path(root),
        num_classes=num_classes, conditional_generator=conditional)


def exemplar_context(root: Path, cache_dir: Path, pool: ImageSet | None = None) -> EvalContext:
    """A run whose "generator" returns real images of the requested class (default: the training split)."""
    pool = pool if pool is not None else load_dataset("mnist", root, "train")
    return digits_context(root, cache_dir, ExemplarGenerator(pool, 10))
