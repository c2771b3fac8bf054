"""The real side of FID/KID: statistics (and features) of the reference split, computed once, cached on disk.

An entry's key spells the protocol: data set, split, n, a SHA-256 of the images themselves (a changed
or regenerated data set never reuses stale statistics), the encoder's identity (network, weights hash,
preprocessing) and a format version. The statistics entry also holds a root F of Σ_real (F Fᵀ = Σ_real:
its Cholesky factor, or its symmetric square root when singular), so each FID evaluation needs only
matrix products and one symmetric eigenvalue solve (fid.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_study.study.data.image_set import ImageSet
from gan_study.study.metrics.cache import ArrayCache, tensor_digest
from gan_study.study.metrics.encoders.base import FeatureExtractor
from gan_study.study.metrics.features import encode_images
from gan_study.study.metrics.fid import covariance_root
from gan_study.study.metrics.statistics import FeatureStatistics

log = logging.getLogger("gan_study.metrics")

FORMAT_VERSION = 2


@dataclass
class Reference:
    statistics: FeatureStatistics
    """float64, with covariance_root, on the evaluation device."""
    features: torch.Tensor | None
    """(n, d) float32 on the CPU, when KID needs them."""
    key: dict
    statistics_file: Path


class ReferenceCache:
    """Reference statistics/features under `cache_dir/reference_statistics/`, kept in memory once read."""

    def __init__(self, cache_dir: Path | str):
        self.store = ArrayCache(Path(cache_dir) / "reference_statistics")
        self.feature_passes = 0
        self._digests: dict[tuple, str] = {}
        self._memory: dict[str, Reference] = {}

    def key(self, images: ImageSet, encoder: FeatureExtractor) -> dict:
        memo = (id(images.images), images.images.data_ptr(), tuple(images.images.shape))
        if memo not in self._digests:
            self._digests[memo] = tensor_digest(images.images)
        return {"dataset": images.name, "split": images.split, "n": len(images), "data_sha256": self._digests[memo],
                "encoder": encoder.identity, "version": FORMAT_VERSION}

    def get(self, images: ImageSet, encoder: FeatureExtractor, device: torch.device, batch_size: int,
            need_features: bool) -> Reference:
        """Statistics of `images` under `encoder` (and their features if `need_features`), from the cache
        when an intact entry exists, else computed and written."""
        key = self.key(images, encoder)
        memo = f"{key}|{need_features}"
        if memo in self._memory:
            return self._memory[memo]
        prefix = f"{images.name}-{images.split}-n{len(images)}-{encoder.name}"
        features = None
        if need_features:
            stored = self.store.load(prefix + "-features", {**key, "kind": "features"})
            if stored is None:
                features = self._encode(images, encoder, device, batch_size)
                self.store.save(prefix + "-features", {**key, "kind": "features"}, {"features": features.numpy()})
            else:
                features = torch.from_numpy(stored["features"])
        stored = self.store.load(prefix + "-statistics", {**key, "kind": "statistics"})
        if stored is None:
            if features is None:
                features = self._encode(images, encoder, device, batch_size)
            statistics = FeatureStatistics.of(features.to(device))
            statistics.covariance_root = covariance_root(statistics.covariance, device)
            stored = {"mean": statistics.mean.cpu().numpy(), "covariance": statistics.covariance.cpu().numpy(),
                      "covariance_root": statistics.covariance_root.cpu().numpy(), "n": np.array(statistics.n)}
            self.store.save(prefix + "-statistics", {**key, "kind": "statistics"}, stored)
        statistics = FeatureStatistics(torch.from_numpy(stored["mean"]), torch.from_numpy(stored["covariance"]),
                                       int(stored["n"]), torch.from_numpy(stored["covariance_root"])).to(device)
        reference = Reference(statistics, features if need_features else None, key,
                              self.store.path(prefix + "-statistics", {**key, "kind": "statistics"}))
        self._memory[memo] = reference
        return reference

    def _encode(self, images: ImageSet, encoder: FeatureExtractor, device: torch.device,
                batch_size: int) -> torch.Tensor:
        log.info("computing reference features of %s/%s (n=%d, %s); cached afterwards",
                 images.name, images.split, len(images), encoder.identity)
        self.feature_passes += 1
        return encode_images(encoder, images.images, device, batch_size, f"{images.name}/{images.split}").features
