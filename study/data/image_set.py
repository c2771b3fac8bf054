"""An image data set held in memory as one tensor: the unit every loader returns.

Training draws minibatches by index from this tensor (on the GPU when training there), so there is no
per-step DataLoader overhead; 8-bit sources stay uint8 until a batch is taken, which keeps CelebA small.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ImageSet:
    """Images as NCHW (uint8 in [0, 255] or float in [0, 1]) with optional integer class labels."""

    images: torch.Tensor
    labels: torch.Tensor | None
    name: str
    split: str

    def __post_init__(self) -> None:
        if self.images.ndim != 4:
            raise ValueError(f"ImageSet.images must be NCHW, got shape {tuple(self.images.shape)}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError(f"ImageSet has {len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def to(self, device: torch.device | str) -> ImageSet:
        """The same set with its tensors on `device` (images keep their dtype)."""
        labels = None if self.labels is None else self.labels.to(device)
        return ImageSet(self.images.to(device), labels, self.name, self.split)

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        """The images at `indices` as float32 in [0, 1]."""
        return as_unit_float(self.images[indices])

    def head(self, n: int) -> ImageSet:
        """The first `n` images (the paper's reference sets are 'the first 10k of the split')."""
        if n > len(self):
            raise ValueError(f"{self.name}/{self.split} has {len(self)} images, {n} were requested")
        labels = None if self.labels is None else self.labels[:n]
        return ImageSet(self.images[:n], labels, self.name, self.split)


def as_unit_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] or float [0, 1] images as float32 in [0, 1]."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images.float()
