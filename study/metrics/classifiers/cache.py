"""A classifier trained on real data once per (data content, labels, recipe), then loaded from disk.

Entries live under `<cache_dir>/classifiers/` as self-checking `.npz` files (gan_study.study.metrics.cache.ArrayCache:
atomic writes, corruption detected and retrained). The key holds the SHA-256 of the images and of the
labels, so a changed data set or a changed option never reuses a stale network.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gan_study.study.data.image_set import ImageSet
from gan_study.study.metrics.cache import ArrayCache, content_digest, tensor_digest
from gan_study.study.metrics.classifiers.protocol import ClassifierOptions, build_network
from gan_study.study.metrics.classifiers.training import train_classifier

CACHE_VERSION = 2


@dataclass
class CachedClassifier:
    network: nn.Module
    """In eval mode, on the device it was asked for."""
    key: dict[str, Any]
    weights_sha256: str
    file: Path
    trained: bool
    """True when this call trained it; False when it was loaded."""


def real_classifier(data: ImageSet, num_classes: int, options: ClassifierOptions, cache_dir: Path,
                    device: torch.device) -> CachedClassifier:
    """The classifier of `data` (images with labels) under resolved `options`: loaded if cached, else trained
    (and cached)."""
    if data.labels is None:
        raise ValueError(f"{data.name}/{data.split} has no labels: a classifier cannot be trained on it")
    key = {"dataset": data.name, "split": data.split, "n": len(data), "data_sha256": tensor_digest(data.images),
           "labels_sha256": tensor_digest(data.labels), "num_classes": num_classes, "options": options.to_dict(),
           "version": CACHE_VERSION}
    cache = ArrayCache(Path(cache_dir) / "classifiers")
    prefix = f"{options.architecture}-{data.name}-{data.split}-{len(data)}"
    stored = cache.load(prefix, key)
    trained = stored is None
    if trained:
        network = train_classifier(data.images, data.labels, num_classes, options, device,
                                   f"real classifier ({data.name}/{data.split}, n={len(data)}, {options.architecture})")
        stored = {name: tensor.detach().cpu().numpy() for name, tensor in network.state_dict().items()}
        cache.save(prefix, key, stored)
    with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten; leave the global RNG as it was
        network = build_network(options, data.shape, num_classes)
    network.load_state_dict({name: torch.from_numpy(np.array(array)) for name, array in stored.items()})
    return CachedClassifier(network.to(device).eval(), key, content_digest(key, stored), cache.path(prefix, key),
                            trained)
