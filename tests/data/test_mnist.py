"""MNIST and Fashion-MNIST read from small IDX files in torchvision's layout, plain and gzip'd."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_study.study.data import DatasetNotFoundError, load_dataset
from gan_study.study.data.registry import check_dataset_files

FAMILY = [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")]
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801  # IDX: ubyte data, 3 and 1 dimensions
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def write_idx(path: Path, magic: int, array: np.ndarray, compress: bool) -> None:
    content = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        content = gzip.compress(content)
    path.write_bytes(content)


def write_split_files(raw: Path, prefix: str, count: int, seed: int, compress: bool, side: int = 28):
    """Random digits and labels written as IDX; returns them as (N, side, side) uint8 and (N,) ints."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, side, side), dtype=np.uint8)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw / f"{prefix}-images-idx3-ubyte", IMAGE_MAGIC, images, compress)
    write_idx(raw / f"{prefix}-labels-idx1-ubyte", LABEL_MAGIC, labels, compress)
    return images, labels


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name, folder", FAMILY)
def test_idx_files_load_pixel_exact_with_labels(name, folder, compress, tmp_path):
    raw = tmp_path / folder / "raw"
    written = {"train": write_split_files(raw, "train", 5, seed=1, compress=compress),
               "test": write_split_files(raw, "t10k", 3, seed=2, compress=compress)}
    for split, (images, labels) in written.items():
        loaded = load_dataset(name, tmp_path, split)
        assert (loaded.name, loaded.split) == (name, split)
        assert loaded.images.dtype == torch.uint8 and loaded.images.shape == (len(images), 1, 28, 28)
        assert np.array_equal(loaded.images[:, 0].numpy(), images)
        assert loaded.labels.dtype == torch.int64
        assert loaded.labels.tolist() == labels.tolist()


def test_gzip_only_files_are_decompressed_once_next_to_themselves(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    images, _ = write_split_files(raw, "train", 4, seed=3, compress=True)
    write_split_files(raw, "t10k", 2, seed=4, compress=True)
    load_dataset("mnist", tmp_path, "train")
    plain = raw / "train-images-idx3-ubyte"
    assert plain.read_bytes() == gzip.decompress((raw / "train-images-idx3-ubyte.gz").read_bytes())
    assert sorted(p.name for p in raw.iterdir() if not p.name.endswith(".gz")) == sorted(FILES)


@pytest.mark.parametrize("name, folder", FAMILY)
def test_missing_files_name_the_folder_the_files_and_the_commands(name, folder, tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset(name, tmp_path, "test")
    assert isinstance(error.value, FileNotFoundError)
    message = str(error.value)
    assert str(tmp_path / folder / "raw") in message
    assert all(file in message for file in FILES)
    assert f"gan-prefetch datasets=[{name}]" in message
    assert "dataset.download=true" in message


def test_only_the_missing_files_are_listed_as_missing(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_split_files(raw, "t10k", 2, seed=5, compress=False)
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset("mnist", tmp_path, "test")
    assert error.value.missing == ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    assert "missing train-images-idx3-ubyte, train-labels-idx1-ubyte in folder" in str(error.value)


def test_images_of_the_wrong_size_are_refused(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_split_files(raw, "train", 2, seed=6, compress=False, side=32)
    write_split_files(raw, "t10k", 2, seed=7, compress=False, side=32)
    with pytest.raises(ValueError, match=r"shape \(1, 32, 32\), registered \(1, 28, 28\)"):
        load_dataset("mnist", tmp_path, "train")


@pytest.mark.parametrize("compress", [False, True])
def test_the_files_are_looked_for_without_loading_them_gzip_compressed_or_not(compress, tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        check_dataset_files("mnist", tmp_path)
    assert error.value.one_line == (f"data set 'mnist' not found in {tmp_path / 'MNIST' / 'raw'}: get it with "
                                    "`gan-prefetch datasets=[mnist]` on a machine with internet access, or run with "
                                    "dataset.download=true")
    raw = tmp_path / "MNIST" / "raw"
    for split in ("train", "t10k"):
        write_split_files(raw, split, 2, seed=7, compress=compress)
    check_dataset_files("mnist", tmp_path)  # no error, nothing decompressed
    assert sorted(p.suffix == ".gz" for p in raw.iterdir()) == [compress] * 4
    check_dataset_files("triangles", tmp_path / "nowhere")  # generated on first use: nothing to look for
