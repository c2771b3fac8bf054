"""The UCI handwritten digits bundled with scikit-learn: real scans, labelled, on any machine, no download.

1,797 8×8 digits (values 0..16, ten writers' classes 0-9) laid out as MNIST is: scaled to 0..255, resized
bilinearly to 20×20 and centred in 28×28 with a 4-pixel border (MNIST's digits fill a 20×20 box in the same
frame). Split in scikit-learn's order: the first 1,297 images are `train`, the last 500 `test` (held out: the
FID reference and GAN-test's real set). A small data set for demos and CPU checks, not one of the paper's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from gan_study.study.data.image_set import ImageSet
from gan_study.study.data.registry import register_dataset

TRAIN_SIZE = 1297
SPLITS = {"train": slice(0, TRAIN_SIZE), "test": slice(TRAIN_SIZE, None)}


def digits_28x28() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as uint8 (N, 28, 28) and their labels as uint8 (N,), in scikit-learn's order."""
    try:
        from sklearn.datasets import load_digits
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError("dataset=digits needs scikit-learn: pip install scikit-learn") from error
    digits = load_digits()
    small = torch.from_numpy(digits.images.astype(np.float32) * (255.0 / 16.0))[:, None]
    boxed = F.interpolate(small, size=(20, 20), mode="bilinear", align_corners=False)
    framed = F.pad(boxed, (4, 4, 4, 4))[:, 0]
    return framed.round().clamp(0, 255).to(torch.uint8).numpy(), digits.target.astype(np.uint8)


@register_dataset("digits", (1, 28, 28), tuple(SPLITS), has_labels=True, num_classes=10)
def load_digits_split(root: Path, split: str, download: bool) -> ImageSet:
    """One split, from scikit-learn's bundled copy (`root` and `download` are not needed)."""
    images, labels = digits_28x28()
    part = SPLITS[split]
    return ImageSet(torch.from_numpy(images[part].copy())[:, None], torch.from_numpy(labels[part].astype(np.int64)),
                    "digits", split)
