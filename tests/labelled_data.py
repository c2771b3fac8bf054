"""Small labelled data for tests of conditional models and class-based metrics: real MNIST IDX files.

`class_patterns` draws 28x28 images whose class is plain to see (and to learn): class k is a bright
block at its own place on a 2 x 5 layout, jittered by a pixel and speckled with noise.
`write_mnist_idx` writes them in the on-disk format the MNIST / Fashion-MNIST loaders read, so tests
exercise the real loading path.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801  # IDX: unsigned bytes, 3 and 1 dimensions
FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}  # torchvision's folder of each data set
PREFIXES = {"train": "train", "test": "t10k"}
SIDE = 28
BLOCK_HEIGHT, BLOCK_WIDTH = 8, 4


def block_corner(label: int) -> tuple[int, int]:
    """Top-left pixel of class `label`'s block: rows 4 and 16, columns 2, 7, 12, 17, 22."""
    row, column = divmod(label, 5)
    return 4 + 12 * row, 2 + 5 * column


def class_patterns(count: int, num_classes: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` images (N, 28, 28) uint8 and their labels (N,) int64, classes cycling 0..K-1 (balanced).

    Background pixels are uniform in [0, 40); the block is uniform in [200, 256) and moves by at most one
    pixel each way, so no two classes' blocks overlap.
    """
    if not 1 <= num_classes <= 10:
        raise ValueError(f"num_classes = {num_classes} is not allowed; allowed: 1 to 10 (the 2 x 5 layout)")
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % num_classes
    images = rng.integers(0, 40, (count, SIDE, SIDE), dtype=np.uint8)
    shifts = rng.integers(-1, 2, (count, 2))
    for image, label, (down, right) in zip(images, labels, shifts):
        top, left = block_corner(int(label))
        top, left = top + down, left + right
        image[top:top + BLOCK_HEIGHT, left:left + BLOCK_WIDTH] = rng.integers(200, 256, (BLOCK_HEIGHT, BLOCK_WIDTH))
    return images, labels


def write_mnist_idx(root: Path, images: np.ndarray, labels: np.ndarray, split: str, dataset: str = "mnist") -> Path:
    """Write one split as `<root>/<MNIST|FashionMNIST>/raw/<train|t10k>-{images-idx3,labels-idx1}-ubyte`.

    `images` are (N, 28, 28) uint8, `labels` (N,) integers in [0, 255]. Returns the raw folder.
    """
    images = np.ascontiguousarray(images, dtype=np.uint8)
    if images.ndim != 3:
        raise ValueError(f"images of shape {images.shape} are not allowed; allowed: (N, H, W) uint8")
    raw = Path(root) / FOLDERS[dataset] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    prefix = PREFIXES[split]
    _write_idx(raw / f"{prefix}-images-idx3-ubyte", IMAGE_MAGIC, images)
    _write_idx(raw / f"{prefix}-labels-idx1-ubyte", LABEL_MAGIC, np.asarray(labels).astype(np.uint8))
    return raw


def write_labelled_mnist(root: Path, train_count: int = 300, test_count: int = 100, num_classes: int = 10,
                         seed: int = 0, dataset: str = "mnist") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Both splits of class-separable images under `root`; returns {split: (images, labels)} as written."""
    written = {"train": class_patterns(train_count, num_classes, seed),
               "test": class_patterns(test_count, num_classes, seed + 1)}
    for split, (images, labels) in written.items():
        write_mnist_idx(root, images, labels, split, dataset)
    return written


def _write_idx(path: Path, magic: int, array: np.ndarray) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", size) for size in array.shape)
    path.write_bytes(header + array.tobytes())
