"""Data sets as in-memory tensors, behind one registry (architecture Contract 2).

Importing this package registers the built-in data sets, exactly as a user's module registers its own.
"""
from gan_study.study.data.errors import DatasetNotFoundError
from gan_study.study.data.image_set import ImageSet
from gan_study.study.data.registry import (
    DatasetInfo,
    available_datasets,
    dataset_info,
    download_dataset,
    load_dataset,
    register_dataset,
)

# Built-in data sets: imported for their registration.
from gan_study.study.data import celeba, cifar10, digits, mnist, triangles  # noqa: E402,F401  isort: skip

__all__ = [
    "DatasetInfo",
    "DatasetNotFoundError",
    "ImageSet",
    "available_datasets",
    "dataset_info",
    "download_dataset",
    "load_dataset",
    "register_dataset",
]
