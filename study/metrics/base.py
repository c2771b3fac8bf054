"""What a metric is: options in, numbers plus a card saying how they were made out.

Every metric sees the run through one `EvalContext`, so the training loop knows nothing of FID,
precision/recall or any metric added later.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar

import torch

from gan_study.study.data.image_set import ImageSet


@dataclass
class EvalContext:
    """Everything a metric may use at one evaluation point of one run."""

    generator: torch.nn.Module
    """In eval mode; maps latents (N, z_dim) to images (N, C, H, W) in [0, 1]."""
    sample_z: Callable[[int, torch.Generator], torch.Tensor]
    """The model's prior: `sample_z(n, rng)` draws n latents on `device`."""
    eval_latents: Callable[[int], torch.Tensor]
    """The first n of a fixed latent sequence: the same at every evaluation of every run with this seed."""
    dataset_name: str
    reference: ImageSet
    """The real reference split (test; CelebA: validation), on the CPU."""
    device: torch.device
    cache_dir: Path
    """Where expensive, reusable things (real statistics, template banks) are cached."""
    eval_seed: int | None = None
    """The seed of `eval_latents` (eval.seed), recorded in metric cards."""
    data_root: Path | None = None
    """Where the data sets live; encoders trained on the data (domain_classifier) load the train split here."""
    num_classes: int | None = None
    """Classes of a class-conditional run (None: the run is unconditional)."""
    conditional_generator: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    """Conditional runs: `(latents (N, z_dim), labels (N,) int64)` on `device` -> images (N, C, H, W) in [0, 1]."""
    run_dir: Path | None = None
    """The run folder: measures write the curves and images of their report figures under `measures/`."""

    @torch.no_grad()
    def generate(self, n: int, batch_size: int = 500) -> torch.Tensor:
        """n generated images from the fixed evaluation latents, float32 in [0, 1], on the CPU."""
        latents = self.eval_latents(n)
        chunks = [self.generator(latents[i:i + batch_size].to(self.device)).float().cpu()
                  for i in range(0, n, batch_size)]
        return torch.cat(chunks)

    @torch.no_grad()
    def generate_labeled(self, n: int, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        """n images of requested classes from the fixed evaluation latents, with their labels, on the CPU.

        The labels cycle through the classes (0, 1, ..., K-1, 0, ...), so every class is equally represented.
        """
        if self.conditional_generator is None or self.num_classes is None:
            raise ValueError("this metric needs a class-conditional run (conditional.enabled=true); "
                             f"the run on {self.dataset_name} is unconditional")
        latents = self.eval_latents(n)
        labels = torch.arange(n) % self.num_classes
        chunks = [self.conditional_generator(latents[i:i + batch_size].to(self.device),
                                             labels[i:i + batch_size].to(self.device)).float().cpu()
                  for i in range(0, n, batch_size)]
        return torch.cat(chunks), labels


class Metric(ABC):
    """A registered evaluation. Subclasses declare the values they produce and which way is better."""

    name: ClassVar[str]
    objectives: ClassVar[dict[str, str]]
    """Value name -> "minimize" or "maximize"; e.g. {"fid": "minimize"}."""
    requires_conditional: ClassVar[bool] = False
    """True: it generates images of requested classes, so run validation refuses it on an unconditional run."""

    @abstractmethod
    def evaluate(self, context: EvalContext) -> dict[str, float]:
        """The metric's values at this evaluation point."""

    @abstractmethod
    def card(self) -> dict:
        """How the numbers were made (network, weights hash, sample sizes, seeds, versions...)."""

    def preflight(self) -> None:
        """Raise now, before any training, if something this metric will need is missing (e.g. weights)."""
