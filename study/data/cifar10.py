"""CIFAR-10 from torchvision's on-disk layout: `<root>/cifar-10-batches-py/{data_batch_1..5, test_batch}`.

These are the pickled batches of the official python archive (dicts with `data`, a (N, 3072) uint8 array of
row-major RGB planes, and `labels`). We read them with our own few lines rather than through
torchvision.datasets.CIFAR10 because that class refuses to load unless every batch and `batches.meta`
match the official MD5 sums, which rules out the small hand-written files the tests check us with.
Downloading still goes through torchvision. Like torchvision, we unpickle the files: only load batches
from a source you trust.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from gan_study.study.data.errors import require_files
from gan_study.study.data.image_set import ImageSet
from gan_study.study.data.registry import register_dataset

FOLDER = "cifar-10-batches-py"
SPLIT_FILES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
SHAPE = (3, 32, 32)
CLASSES = 10


def require_cifar10_files(root: Path) -> None:
    """Every batch of both splits under `<root>/cifar-10-batches-py`."""
    require_files("cifar10", root / FOLDER, SPLIT_FILES["train"] + SPLIT_FILES["test"])


@register_dataset("cifar10", SHAPE, tuple(SPLIT_FILES), has_labels=True, num_classes=CLASSES,
                  check_files=require_cifar10_files)
def load_cifar10(root: Path, split: str, download: bool) -> ImageSet:
    """The 50k training or 10k test images."""
    folder = root / FOLDER
    if download:
        import torchvision.datasets  # imported here: it costs seconds

        torchvision.datasets.CIFAR10(str(root), train=True, download=True)
    require_cifar10_files(root)
    batches = [_read_batch(folder / file) for file in SPLIT_FILES[split]]
    images = torch.from_numpy(np.concatenate([images for images, _ in batches]))
    labels = torch.from_numpy(np.concatenate([labels for _, labels in batches]))
    return ImageSet(images, labels, "cifar10", split)


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 3, 32, 32) uint8, labels (N,) int64) of one pickled batch."""
    with path.open("rb") as handle:
        entry = pickle.load(handle, encoding="bytes")
    # The official files were pickled by Python 2: keys come back as bytes; accept str keys too.
    entry = {key.decode() if isinstance(key, bytes) else key: value for key, value in entry.items()}
    missing = {"data", "labels"} - set(entry)
    if missing:
        raise ValueError(f"CIFAR-10 batch {path} lacks the keys {sorted(missing)}; it has {sorted(entry)}")
    data = np.asarray(entry["data"])
    labels = np.asarray(entry["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != int(np.prod(SHAPE)):
        raise ValueError(f"CIFAR-10 batch {path}: data must be uint8 of shape (N, 3072), "
                         f"got {data.dtype} {data.shape}")
    if labels.shape != (len(data),):
        raise ValueError(f"CIFAR-10 batch {path}: {len(data)} images but labels of shape {labels.shape}")
    if labels.size and not (labels.min() >= 0 and labels.max() < CLASSES):
        raise ValueError(f"CIFAR-10 batch {path}: labels must be in [0, {CLASSES}), "
                         f"got range [{labels.min()}, {labels.max()}]")
    return data.reshape(-1, *SHAPE), labels
