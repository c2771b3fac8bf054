"""dataset=digits: scikit-learn's UCI handwritten digits, laid out as MNIST, labelled, with a held-out split."""
from __future__ import annotations

from pathlib import Path

import torch
import yaml

from gan_study.study.config import validate
from gan_study.study.data import dataset_info, load_dataset
from gan_study.study.train import run_training
from tests.conftest import compose

CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
"""Digits per class of the UCI set (scikit-learn's documentation of load_digits: 1,797 in all)."""


def test_registered_as_a_labelled_28x28_set_with_a_held_out_split():
    info = dataset_info("digits")
    assert (info.image_shape, info.splits, info.has_labels, info.num_classes) == \
        ((1, 28, 28), ("train", "test"), True, 10)
    assert info.check_files is None  # scikit-learn bundles the digits: nothing for the sweep driver to look for
    conf = yaml.safe_load((Path(__file__).resolve().parents[2] / "conf" / "dataset" / "digits.yaml").read_text())
    assert conf["name"] == "digits" and conf["image_shape"] == [1, 28, 28] and conf["reference_split"] == "test"


def test_splits_hold_every_digit_once_in_mnists_frame(tmp_path):
    train, test = (load_dataset("digits", tmp_path, split) for split in ("train", "test"))
    assert (len(train), len(test)) == (1297, 500) and train.images.dtype == torch.uint8
    labels = torch.cat([train.labels, test.labels])
    assert torch.bincount(labels).tolist() == CLASS_COUNTS
    images = torch.cat([train.images, test.images])
    border = torch.ones(28, 28, dtype=torch.bool)
    border[4:24, 4:24] = False
    assert images[:, 0, border].max() == 0  # a 20x20 digit centred in 28x28, as MNIST
    assert images.max() == 255 and images.float().mean() > 20
    assert len({bytes(image.numpy()) for image in images}) > 1790  # distinct scans (the UCI set has a few repeats)
    assert not list(tmp_path.iterdir())  # nothing written, nothing downloaded


def test_a_conditional_run_trains_on_the_digits(tmp_path):
    cfg = validate(compose(["dataset=digits", "train=tiny", "eval=none", "conditional.enabled=true",
                            f"data_root={tmp_path / 'data'}"]))
    record = run_training(cfg, tmp_path / "run")
    assert record.status == "completed" and record.steps == 6
