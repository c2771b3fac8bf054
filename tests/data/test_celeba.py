"""CelebA read from small 178x218 JPEGs and list_eval_partition.txt: crop, TF1 resize, splits, cache."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_study.study.data import DatasetNotFoundError, load_dataset

# file -> official partition (0 train, 1 validation, 2 test), deliberately interleaved
PARTITION = {"000001.jpg": 0, "000002.jpg": 1, "000003.jpg": 0, "000004.jpg": 2, "000005.jpg": 1, "000006.jpg": 0}


def write_celeba(root: Path, partition: dict[str, int] = PARTITION) -> Path:
    """Smooth random faces-sized JPEGs (178 wide, 218 high) and the partition file; returns the celeba folder."""
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:218, 0:178]
    for file in partition:
        waves = [128 + 100 * np.sin(x / rng.uniform(5, 30) + rng.uniform(0, 6))
                 * np.cos(y / rng.uniform(5, 30) + rng.uniform(0, 6)) for _ in range(3)]
        pixels = np.clip(np.stack(waves, axis=-1) + rng.normal(0, 8, (218, 178, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / "img_align_celeba" / file, quality=95)
    (folder / "list_eval_partition.txt").write_text("".join(f"{f} {p}\n" for f, p in partition.items()))
    return folder


def paper_preprocessing(path: Path) -> np.ndarray:
    """Independent reference: PIL decode, centre 160 crop, TF1 bilinear to 64 by its scalar definition."""
    image = Image.open(path).convert("RGB")
    left, top = (178 - 160) // 2, (218 - 160) // 2
    crop = np.asarray(image.crop((left, top, left + 160, top + 160)), dtype=np.float64)
    out = np.empty((64, 64, 3))
    for i in range(64):
        source_y = i * 160 / 64
        y0, y1, wy = math.floor(source_y), min(math.ceil(source_y), 159), source_y - math.floor(source_y)
        for j in range(64):
            source_x = j * 160 / 64
            x0, x1, wx = math.floor(source_x), min(math.ceil(source_x), 159), source_x - math.floor(source_x)
            top_mix = crop[y0, x0] * (1 - wx) + crop[y0, x1] * wx
            bottom_mix = crop[y1, x0] * (1 - wx) + crop[y1, x1] * wx
            out[i, j] = top_mix * (1 - wy) + bottom_mix * wy
    return np.round(out).transpose(2, 0, 1)


def test_splits_follow_the_partition_file_and_match_the_paper_preprocessing(tmp_path, caplog):
    folder = write_celeba(tmp_path)
    caplog.set_level(logging.INFO, logger="gan_study.study.data.celeba")
    for split, partition in (("train", 0), ("test", 1), ("holdout", 2)):
        loaded = load_dataset("celeba", tmp_path, split)
        files = [f for f, p in PARTITION.items() if p == partition]
        assert (loaded.name, loaded.split, loaded.labels) == ("celeba", split, None)
        assert loaded.images.dtype == torch.uint8 and loaded.images.shape == (len(files), 3, 64, 64)
        for image, file in zip(loaded.images, files):
            # Exact: the same decoder, and with a 2.5 scale every TF1 weight is 0 or 1/2, exact in float32.
            assert np.array_equal(image.numpy(), paper_preprocessing(folder / "img_align_celeba" / file))
    assert any("/s, ETA" in record.getMessage() for record in caplog.records)


def test_second_load_comes_from_the_cache_until_the_partition_changes(tmp_path):
    folder = write_celeba(tmp_path)
    first = load_dataset("celeba", tmp_path, "train")
    caches = list(folder.glob("*train*.pt"))
    assert len(caches) == 1 and not list(folder.glob(".*.tmp"))
    # With the images gone, only the cache can still answer.
    for file in ("000001.jpg", "000003.jpg", "000006.jpg"):
        (folder / "img_align_celeba" / file).unlink()
    assert torch.equal(load_dataset("celeba", tmp_path, "train").images, first.images)
    # A partition file listing other training images makes the cache stale: it decodes again.
    (folder / "list_eval_partition.txt").write_text("000002.jpg 0\n000005.jpg 1\n")
    retrained = load_dataset("celeba", tmp_path, "train")
    assert len(retrained) == 1
    assert np.array_equal(retrained.images[0].numpy(), paper_preprocessing(folder / "img_align_celeba" / "000002.jpg"))


def test_missing_folder_names_the_files_the_folder_and_the_commands(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset("celeba", tmp_path, "test")
    message = str(error.value)
    assert error.value.missing == ["img_align_celeba/", "list_eval_partition.txt"]
    assert f"in folder {tmp_path / 'celeba'}" in message
    assert "gan-prefetch datasets=[celeba]" in message and "dataset.download=true" in message


def test_a_listed_image_that_is_missing_is_named(tmp_path):
    folder = write_celeba(tmp_path)
    (folder / "img_align_celeba" / "000005.jpg").unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset("celeba", tmp_path, "test")
    assert error.value.missing == ["000005.jpg"]
    assert str(folder / "img_align_celeba") in str(error.value)


def test_a_malformed_partition_line_is_named(tmp_path):
    folder = write_celeba(tmp_path)
    (folder / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg valid\n")
    with pytest.raises(ValueError, match=r"line 2: expected '<image file> <0\|1\|2>', got '000002.jpg valid'"):
        load_dataset("celeba", tmp_path, "train")


def test_images_smaller_than_the_crop_are_refused(tmp_path):
    folder = write_celeba(tmp_path)
    Image.new("RGB", (150, 218)).save(folder / "img_align_celeba" / "000004.jpg")
    with pytest.raises(ValueError, match=r"000004.jpg is 150x218; .* at least 160x160"):
        load_dataset("celeba", tmp_path, "holdout")
