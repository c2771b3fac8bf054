"""Encoders with released ImageNet weights: looked up offline, hash-checked, loaded strictly."""
from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any

import torch

from gan_study.models.checks import choice
from gan_study.study.metrics.encoders.base import EncoderSetup, FeatureExtractor
from gan_study.study.metrics.preprocess import RESIZE_DESCRIPTIONS, RESIZE_MODES
from gan_study.study.metrics.weights import WeightsFile, load_state_dict, locate_weights, verified_sha256


class PretrainedEncoder(FeatureExtractor):
    """Options: `weights_path` (a file or folder searched before torch hub's cache), `weights_sha256_prefix`
    (default: the prefix in the released file name), `resize` (tf1 | torch sampling grid)."""

    weights: WeightsFile
    network_description: str

    def __init__(self, weights_path: str | None = None, weights_sha256_prefix: str | None = None,
                 resize: str = "tf1", **options: Any):
        super().__init__(**options)
        choice(f"encoder {self.name!r}: resize", resize, RESIZE_MODES)
        prefix = self.weights.hash_prefix if weights_sha256_prefix is None else str(weights_sha256_prefix)
        if any(c not in "0123456789abcdef" for c in prefix):
            raise ValueError(f"encoder {self.name!r}: weights_sha256_prefix = {prefix!r} is not allowed: "
                             "lowercase hex digits")
        self.weights_path, self.hash_prefix, self.resize = weights_path, prefix, resize
        self.network: torch.nn.Module | None = None
        self.weights_file: Path | None = None
        self.weights_sha256: str | None = None

    @abstractmethod
    def build_network(self) -> torch.nn.Module:
        """The architecture with the released file's parameter names, untrained and cheap to build."""

    def preflight(self) -> None:
        locate_weights(self.weights, self.weights_path)

    def prepare(self, setup: EncoderSetup) -> None:
        if self.network is not None:
            self.network.to(setup.device)
            return
        path = locate_weights(self.weights, self.weights_path)
        self.weights_sha256 = verified_sha256(path, self.hash_prefix)
        network = self.build_network()
        network.load_state_dict(load_state_dict(path), strict=True)
        self.network, self.weights_file = network.eval().requires_grad_(False).to(setup.device), path

    @property
    def identity(self) -> str:
        if self.weights_sha256 is None:
            raise RuntimeError(f"encoder {self.name!r}: prepare() first")
        return f"{self.name}-{self.weights_sha256[:16]}-resize_{self.resize}"

    def card(self) -> dict[str, Any]:
        return {"encoder": self.name, "network": self.network_description,
                "weights_file": self.weights.filename, "weights_path": str(self.weights_file),
                "weights_sha256": self.weights_sha256, "weights_release_url": self.weights.url,
                "resize": RESIZE_DESCRIPTIONS[self.resize], "comparable_to_paper": self.comparable_to_paper}
