"""CelebA (aligned) from torchvision's on-disk layout, preprocessed as the paper: 64x64x3, no labels.

Files: `<root>/celeba/img_align_celeba/*.jpg` (178x218) and `<root>/celeba/list_eval_partition.txt`
(`<file> <0|1|2>` per line: official train, validation, test). Splits: `train` = partition 0, `test` = the
official validation partition 1 (the paper's FID reference, tensor2tensor's "dev"), `holdout` = 2.

We read the files ourselves rather than through torchvision.datasets.CelebA, which refuses to load unless
the attribute, identity, bounding-box and landmark files are present with their official MD5 sums: none of
them is needed here, and small test files could never pass. Downloading still goes through torchvision.

Preprocessing (docs/protocol.md#data-sets-and-budgets): decode, `tf.image.resize_image_with_crop_or_pad` to 160x160 (a centre crop),
TF1 bilinear resize to 64x64. The paper's pipeline keeps the resized floats; we round them to uint8 to keep
the split in memory (2 GB for train instead of 8), an error of at most 0.5/255 per pixel. Decoding 160k JPEGs
takes minutes, so the result is cached next to the data on first load.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_study.study.data.errors import DatasetNotFoundError, require_files
from gan_study.study.data.image_set import ImageSet
from gan_study.study.data.registry import register_dataset
from gan_study.study.data.tf_resize import tf1_resize_bilinear
from gan_study.study.files import READABLE_BY_ALL, write_atomically

log = logging.getLogger(__name__)

FOLDER = "celeba"
IMAGE_FOLDER = "img_align_celeba"
PARTITION_FILE = "list_eval_partition.txt"
SPLIT_PARTITION = {"train": 0, "test": 1, "holdout": 2}
CROP = 160
SIZE = 64
# Names the preprocessing inside the cache: change it whenever the pixels would change.
PROTOCOL = f"crop{CROP}-tf1bilinear{SIZE}-uint8-v1"
CHUNK = 512
PROGRESS_EVERY_S = 10.0


def require_celeba_files(root: Path) -> None:
    """The aligned images and the partition file under `<root>/celeba`."""
    require_files("celeba", root / FOLDER, (f"{IMAGE_FOLDER}/", PARTITION_FILE))


@register_dataset("celeba", (3, SIZE, SIZE), tuple(SPLIT_PARTITION), has_labels=False,
                  check_files=require_celeba_files)
def load_celeba(root: Path, split: str, download: bool) -> ImageSet:
    """One official partition of aligned CelebA at 64x64, from the decode cache when it is current."""
    folder = root / FOLDER
    if download:
        import importlib.util

        import torchvision.datasets  # imported here: it costs seconds

        if importlib.util.find_spec("gdown") is None:  # torchvision fetches CelebA from Google Drive with gdown
            raise ModuleNotFoundError("dataset=celeba with download=true needs gdown: pip install 'gan-study[celeba]'")
        torchvision.datasets.CelebA(str(root), split="all", target_type=[], download=True)
    require_celeba_files(root)
    files = partition_files(folder / PARTITION_FILE, SPLIT_PARTITION[split])
    cache = folder / f"gan_study_{split}_{PROTOCOL}.pt"
    fingerprint = _fingerprint(files)
    images = _read_cache(cache, fingerprint)
    if images is None:
        images = preprocess_files(folder / IMAGE_FOLDER, files, label=f"celeba/{split}")
        _write_cache(cache, images, fingerprint)
    return ImageSet(images, None, "celeba", split)


def partition_files(path: Path, partition: int) -> list[str]:
    """The image files listed with `partition` in list_eval_partition.txt, in file order."""
    files = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise ValueError(f"{path}, line {number}: expected '<image file> <0|1|2>', got {line!r}")
        if int(fields[1]) == partition:
            files.append(fields[0])
    return files


def preprocess_files(folder: Path, files: Sequence[str], label: str) -> torch.Tensor:
    """uint8 (N, 3, 64, 64): decode, centre-crop to 160, TF1-bilinear resize; in parallel chunks with progress.

    PIL decodes with the GIL released, so a thread pool uses every core without copying images between
    processes.
    """
    missing = [file for file in files if not (folder / file).is_file()]
    if missing:
        raise DatasetNotFoundError("celeba", folder, [f"the {len(files)} images of {label} listed in "
                                                      f"{PARTITION_FILE}"], missing)
    out = torch.empty((len(files), 3, SIZE, SIZE), dtype=torch.uint8)
    starts = range(0, len(files), CHUNK)
    log.info("%s: decoding %d images from %s (cached afterwards)", label, len(files), folder)
    began = last_log = time.monotonic()
    done = 0
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        chunks = pool.map(lambda start: _preprocess_chunk(folder, files[start:start + CHUNK]), starts)
        for start, chunk in zip(starts, chunks):
            out[start:start + len(chunk)] = chunk
            done += len(chunk)
            now = time.monotonic()
            if now - last_log >= PROGRESS_EVERY_S or done == len(files):
                rate = done / max(now - began, 1e-9)
                log.info("%s: %d/%d images (%.0f/s, ETA %.0f s)", label, done, len(files), rate,
                         (len(files) - done) / rate)
                last_log = now
    return out


def _preprocess_chunk(folder: Path, files: Sequence[str]) -> torch.Tensor:
    crops = np.stack([_decode_centre_crop(folder / file) for file in files])
    resized = tf1_resize_bilinear(torch.from_numpy(crops).permute(0, 3, 1, 2), (SIZE, SIZE))
    return resized.round_().clamp_(0, 255).to(torch.uint8)


def _decode_centre_crop(path: Path) -> np.ndarray:
    """(CROP, CROP, 3) uint8: the central window, as tf.image.resize_image_with_crop_or_pad takes it."""
    with Image.open(path) as image:
        width, height = image.size
        if height < CROP or width < CROP:
            raise ValueError(f"{path} is {width}x{height}; CelebA preprocessing needs at least {CROP}x{CROP}")
        top, left = (height - CROP) // 2, (width - CROP) // 2
        return np.asarray(image.convert("RGB").crop((left, top, left + CROP, top + CROP)))


def _fingerprint(files: Sequence[str]) -> str:
    """Identifies the split's file list; the cache is rebuilt when the partition file lists other images."""
    return hashlib.sha256("\n".join(files).encode()).hexdigest()


def _read_cache(path: Path, fingerprint: str) -> torch.Tensor | None:
    if not path.exists():
        return None
    entry = torch.load(path, weights_only=True)
    if entry.get("protocol") != PROTOCOL or entry.get("fingerprint") != fingerprint:
        log.info("ignoring decode cache %s: made for other files or another preprocessing", path)
        return None
    log.info("loaded %d preprocessed images from %s", len(entry["images"]), path)
    return entry["images"]


def _write_cache(path: Path, images: torch.Tensor, fingerprint: str) -> None:
    entry = {"protocol": PROTOCOL, "fingerprint": fingerprint, "images": images}
    try:
        write_atomically(path, lambda handle: torch.save(entry, handle), mode=READABLE_BY_ALL)
    except OSError as error:  # a read-only data root costs time on every load, not correctness
        log.warning("could not write the decode cache %s (%s); the next load decodes again", path, error)
        return
    log.info("cached the preprocessed images in %s", path)
