"""MNIST and Fashion-MNIST from torchvision's on-disk layout: `<root>/<MNIST|FashionMNIST>/raw/*-ubyte`.

torchvision's own dataset classes read the files (they check only that the four uncompressed IDX files
exist, no checksum, so they work offline on any valid files). torchvision cannot read the `.gz` files
directly; when only those are present they are decompressed once next to themselves, as torchvision's
downloader leaves them.
"""
from __future__ import annotations

import gzip
import logging
import shutil
from functools import partial
from pathlib import Path

from gan_study.study.data.errors import require_files
from gan_study.study.data.image_set import ImageSet
from gan_study.study.data.registry import register_dataset
from gan_study.study.files import READABLE_BY_ALL, write_atomically

log = logging.getLogger(__name__)

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SPLITS = ("train", "test")
NOTE = "each file may also be present gzip-compressed, as <file>.gz"


def require_idx_files(name: str, class_name: str, root: Path, packed: str = ".gz") -> None:
    """The four IDX files under `<root>/<class_name>/raw`, each plain or (`packed`) gzip-compressed."""
    require_files(name, root / class_name / "raw", IDX_FILES, note=NOTE, packed=packed)


@register_dataset("mnist", (1, 28, 28), SPLITS, has_labels=True, num_classes=10,
                  check_files=partial(require_idx_files, "mnist", "MNIST"))
def load_mnist(root: Path, split: str, download: bool) -> ImageSet:
    """The 60k training or 10k test digits."""
    return _load_idx_dataset("mnist", "MNIST", root, split, download)


@register_dataset("fashion_mnist", (1, 28, 28), SPLITS, has_labels=True, num_classes=10,
                  check_files=partial(require_idx_files, "fashion_mnist", "FashionMNIST"))
def load_fashion_mnist(root: Path, split: str, download: bool) -> ImageSet:
    """The 60k training or 10k test Zalando articles."""
    return _load_idx_dataset("fashion_mnist", "FashionMNIST", root, split, download)


def _load_idx_dataset(name: str, class_name: str, root: Path, split: str, download: bool) -> ImageSet:
    import torchvision.datasets  # imported here: it costs seconds, and config validation imports this package

    dataset_class = getattr(torchvision.datasets, class_name)
    raw = root / class_name / "raw"
    if download:
        dataset_class(str(root), train=True, download=True)
    _decompress_missing(raw)
    require_idx_files(name, class_name, root, packed="")  # torchvision reads only the plain files
    dataset = dataset_class(str(root), train=split == "train", download=False)
    return ImageSet(dataset.data.unsqueeze(1).contiguous(), dataset.targets.long(), name, split)


def _decompress_missing(raw: Path) -> None:
    """Write `<file>` from `<file>.gz` for each IDX file present only compressed."""
    for file in IDX_FILES:
        plain, packed = raw / file, raw / f"{file}.gz"
        if not plain.exists() and packed.exists():
            log.info("decompressing %s", packed)
            with gzip.open(packed, "rb") as source:
                write_atomically(plain, lambda target: shutil.copyfileobj(source, target), mode=READABLE_BY_ALL)
