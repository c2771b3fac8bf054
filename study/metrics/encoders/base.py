"""What a feature extractor is, and the one registry of them (`encoder:` in a metric's options).

An encoder is configured cheaply from options (validated at config time, no files touched), then
`prepare`d once at the first evaluation (weights located and checked, or a small network trained and
cached). Its `identity` names everything that changes the features (network, weights hash,
preprocessing), so cached real statistics are never reused across protocols.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

import torch

from gan_study.models.registry import Registry
from gan_study.study.data.image_set import ImageSet


@dataclass
class EncoderSetup:
    """What `prepare` may use: where to run and cache, and (for trained encoders) the training split."""

    device: torch.device
    cache_dir: Path
    dataset_name: str
    train_set: Callable[[], ImageSet] | None = None
    """Loads the data set's training split; only trained encoders (domain_classifier) call it."""


@dataclass
class Encoded:
    """Features (n, d) and, for classifiers, class logits (n, k); float32."""

    features: torch.Tensor
    logits: torch.Tensor | None = None


class FeatureExtractor(ABC):
    """A frozen network mapping [0, 1] images (N, C, H, W), C in {1, 3}, to feature vectors."""

    name: ClassVar[str]
    comparable_to_paper: ClassVar[bool] = False
    """True only for the paper's network (Inception pool3); other encoders' FIDs are on another scale."""

    def __init__(self, **options: Any):
        if options:
            raise TypeError(f"encoder {self.name!r}: unknown options {sorted(options)}")

    def preflight(self) -> None:
        """Raise now if `prepare` would fail for a missing file; cheap (no network is built)."""

    @abstractmethod
    def prepare(self, setup: EncoderSetup) -> None:
        """Load (or train) the network on `setup.device`; idempotent."""

    @abstractmethod
    def encode(self, images: torch.Tensor) -> Encoded:
        """Features (and logits, if any) of a batch of [0, 1] images already on the device."""

    @property
    @abstractmethod
    def has_logits(self) -> bool:
        """Whether `encode` returns class logits (needed for the Inception Score)."""

    @property
    @abstractmethod
    def identity(self) -> str:
        """Everything that determines the features, as one string (valid after `prepare`)."""

    @abstractmethod
    def card(self) -> dict[str, Any]:
        """How the features are made: network, weights file and hash, preprocessing."""


ENCODERS: Registry[type[FeatureExtractor]] = Registry("encoder", "encoder", base=FeatureExtractor)


def register_encoder(name: str) -> Callable[[type[FeatureExtractor]], type[FeatureExtractor]]:
    """Class decorator: make `cls` available as `encoder: <name>`."""
    return ENCODERS.register(name)


def available_encoders() -> list[str]:
    return ENCODERS.available()


def build_encoder(name: str, **options: Any) -> FeatureExtractor:
    """Encoder `name` configured by `options` (no file is touched until `prepare`)."""
    return ENCODERS.build(name, **options)
