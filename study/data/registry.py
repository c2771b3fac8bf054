"""The data set registry: the one place a data set is added.

A loader is a function `(root: Path, split: str, download: bool) -> ImageSet`, registered with
`@register_dataset(name, image_shape, splits, has_labels, num_classes)` in `DATASETS`, the shared `Registry`
(`models/registry.py`) whose entries carry their `DatasetInfo`. Built-ins register themselves exactly as user
code does. `load_dataset` checks the name and the split before any file is touched, and
checks what the loader returns against what it declared, so a config that validates is a config that loads.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch

from gan_study.models.registry import Registry
from gan_study.study.data.image_set import ImageSet

Loader = Callable[[Path, str, bool], ImageSet]
FilesCheck = Callable[[Path], None]
"""`(root) -> None`: raises DatasetNotFoundError when the data set's files are not under the data root."""


class DatasetInfo(NamedTuple):
    """What a registered data set promises: the (C, H, W) of its images, its splits, whether it has labels.

    `num_classes` (labels 0..K-1) is what class-conditional models need; None for unlabelled data.
    """

    image_shape: tuple[int, int, int]
    splits: tuple[str, ...]
    has_labels: bool
    num_classes: int | None = None
    check_files: FilesCheck | None = None
    """Looks for the files without loading them (the sweep driver, before any trial); None: nothing to look for
    (generated or bundled data) or not declared (a plugin's loader still raises when it loads)."""


DATASETS: Registry[Loader] = Registry("dataset", "dataset.name")


def register_dataset(name: str, image_shape: tuple[int, int, int], splits: tuple[str, ...],
                     has_labels: bool, num_classes: int | None = None,
                     check_files: FilesCheck | None = None) -> Callable[[Loader], Loader]:
    """Decorator registering `loader` under `name` with what it promises; a name can be registered once."""
    shape = tuple(image_shape)
    if len(shape) != 3 or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(f"register_dataset({name!r}): image_shape must be three positive ints (C, H, W), "
                         f"got {image_shape!r}")
    split_names = tuple(splits)
    if not split_names or not all(isinstance(s, str) and s for s in split_names) \
            or len(set(split_names)) != len(split_names):
        raise ValueError(f"register_dataset({name!r}): splits must be distinct non-empty strings, got {splits!r}")
    if num_classes is not None and not (has_labels and isinstance(num_classes, int) and num_classes >= 2):
        raise ValueError(f"register_dataset({name!r}): num_classes must be an int >= 2 of a data set with labels, "
                         f"got {num_classes!r} (has_labels={has_labels!r})")
    return DATASETS.register(name, DatasetInfo(shape, split_names, bool(has_labels), num_classes, check_files))


def available_datasets() -> list[str]:
    """The registered data set names, sorted."""
    return DATASETS.available()


def dataset_info(name: str) -> DatasetInfo:
    """(image_shape, splits, has_labels, num_classes) of a registered data set."""
    return DATASETS.info(name)


def check_dataset_files(name: str, root: str | Path) -> None:
    """Raise DatasetNotFoundError when data set `name` declares its files and they are not under `root`."""
    check = dataset_info(name).check_files
    if check is not None:
        check(Path(root).expanduser())


def load_dataset(name: str, root: str | Path, split: str, download: bool = False) -> ImageSet:
    """Split `split` of data set `name` from the data root `root`, whole, as one in-memory ImageSet."""
    info = dataset_info(name)
    if split not in info.splits:
        raise ValueError(f"split {split!r} is not a split of data set {name!r}; allowed: {list(info.splits)}")
    images = DATASETS.get(name)(Path(root).expanduser(), split, bool(download))
    _check_loaded(name, split, info, images)
    return images


def download_dataset(name: str, root: str | Path) -> dict[str, int]:
    """Fetch every split of `name` into `root` (and build any decode cache); returns images per split.

    This is what `gan-prefetch` runs on a machine with internet access.
    """
    return {split: len(load_dataset(name, root, split, download=True)) for split in dataset_info(name).splits}


def _check_loaded(name: str, split: str, info: DatasetInfo, images: ImageSet) -> None:
    """A loader that breaks its declaration is a bug in the loader: say so here, not in training."""
    where = f"loader of data set {name!r} (split {split!r})"
    if not isinstance(images, ImageSet):
        raise TypeError(f"{where} returned {type(images).__name__}, not an ImageSet")
    if (images.name, images.split) != (name, split):
        raise ValueError(f"{where} returned an ImageSet named {images.name!r}/{images.split!r}")
    if images.shape != info.image_shape:
        raise ValueError(f"{where} returned images of shape {images.shape}, registered {info.image_shape}")
    if images.images.dtype != torch.uint8 and not images.images.is_floating_point():
        raise ValueError(f"{where} returned images of dtype {images.images.dtype}; allowed: uint8 or float")
    if info.has_labels != (images.labels is not None):
        raise ValueError(f"{where} returned labels={'None' if images.labels is None else 'a tensor'}, "
                         f"registered has_labels={info.has_labels}")
    if images.labels is not None and images.labels.dtype != torch.int64:
        raise ValueError(f"{where} returned labels of dtype {images.labels.dtype}; allowed: int64")
