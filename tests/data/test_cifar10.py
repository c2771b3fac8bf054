"""CIFAR-10 read from small pickled batches in the official python format."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_study.study.data import DatasetNotFoundError, load_dataset

BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


def write_batch(path: Path, images: np.ndarray, labels: list[int], bytes_keys: bool = True) -> None:
    """One batch as the official archive stores it: 3072 bytes per image, the R, G and B planes row-major."""
    data = np.concatenate([images[:, channel].reshape(len(images), 32 * 32) for channel in range(3)], axis=1)
    entry = {"batch_label": "testing batch", "labels": labels, "data": data,
             "filenames": [f"image_{i}.png" for i in range(len(images))]}
    if bytes_keys:
        entry = {key.encode(): value for key, value in entry.items()}
    path.write_bytes(pickle.dumps(entry, protocol=2))


def write_cifar(root: Path, counts: dict[str, int], bytes_keys: bool = True) -> dict[str, tuple]:
    """Random batches with `counts[file]` images; returns the images (N,3,32,32) and labels of each split."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    written = {}
    for split, files in BATCHES.items():
        parts = []
        for file in files:
            images = rng.integers(0, 256, (counts[file], 3, 32, 32), dtype=np.uint8)
            labels = rng.integers(0, 10, counts[file]).tolist()
            write_batch(folder / file, images, labels, bytes_keys)
            parts.append((images, labels))
        written[split] = (np.concatenate([p[0] for p in parts]), sum((p[1] for p in parts), []))
    return written


COUNTS = {"data_batch_1": 2, "data_batch_2": 3, "data_batch_3": 1, "data_batch_4": 2, "data_batch_5": 2,
          "test_batch": 3}


@pytest.mark.parametrize("bytes_keys", [True, False], ids=["bytes_keys", "str_keys"])
def test_batches_load_pixel_exact_in_file_order(bytes_keys, tmp_path):
    written = write_cifar(tmp_path, COUNTS, bytes_keys)
    for split, (images, labels) in written.items():
        loaded = load_dataset("cifar10", tmp_path, split)
        assert loaded.images.dtype == torch.uint8 and loaded.images.shape == (len(images), 3, 32, 32)
        assert np.array_equal(loaded.images.numpy(), images)
        assert loaded.labels.dtype == torch.int64 and loaded.labels.tolist() == labels
    assert len(written["train"][0]) == 10


def test_missing_batch_names_it_the_folder_and_the_commands(tmp_path):
    write_cifar(tmp_path, COUNTS)
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset("cifar10", tmp_path, "train")
    message = str(error.value)
    assert error.value.missing == ["test_batch"]
    assert f"missing test_batch in folder {tmp_path / 'cifar-10-batches-py'}" in message
    assert "data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5, test_batch" in message
    assert "gan-prefetch datasets=[cifar10]" in message and "dataset.download=true" in message


def test_labels_outside_the_ten_classes_are_refused(tmp_path):
    write_cifar(tmp_path, COUNTS)
    images = np.zeros((2, 3, 32, 32), dtype=np.uint8)
    write_batch(tmp_path / "cifar-10-batches-py" / "test_batch", images, [3, 10])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 10\), got range \[3, 10\]"):
        load_dataset("cifar10", tmp_path, "test")


def test_a_batch_of_other_image_sizes_is_refused(tmp_path):
    write_cifar(tmp_path, COUNTS)
    entry = {b"data": np.zeros((2, 3 * 28 * 28), dtype=np.uint8), b"labels": [0, 1]}
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps(entry))
    with pytest.raises(ValueError, match=r"shape \(N, 3072\), got uint8 \(2, 2352\)"):
        load_dataset("cifar10", tmp_path, "test")
