"""A class-conditional run with GAN-train / GAN-test, through the real `gan-train` CLI on labelled MNIST files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gan_study.study.train.run_folder import RunFolder
from tests.labelled_data import write_labelled_mnist

ROOT = Path(__file__).resolve().parents[2]
CLASSIFIER = "{width:8,epochs:4,batch_size:32,lr:0.05}"


def gan_train(tmp_path: Path, data_root: Path, run: str) -> tuple[dict, str]:
    """One conditional NS GAN run (AC-GAN head), evaluated with GAN-train / GAN-test: its record and its log."""
    command = [sys.executable, "-m", "gan_study.study.cli.train", "model=ns_gan", "dataset=mnist", "conditional.enabled=true",
               "train=tiny", "eval=none",
               f"+eval.metrics.gan_train_test={{n_train:100,n_test:100,classifier:{CLASSIFIER}}}",
               f"data_root={data_root}", f"cache_dir={tmp_path / 'cache'}", f"run_dir={tmp_path / run}",
               "device=cpu"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((tmp_path / run / "record.json").read_text()), done.stdout + done.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, tuple[dict, str], tuple[dict, str]]:
    tmp_path = tmp_path_factory.mktemp("conditional")
    data_root = tmp_path / "data"
    write_labelled_mnist(data_root, train_count=300, test_count=100)
    return tmp_path, gan_train(tmp_path, data_root, "first"), gan_train(tmp_path, data_root, "second")


def test_every_evaluation_records_gan_train_gan_test_and_their_harmonic_mean(runs):
    tmp_path, (first, _), _ = runs
    assert first["status"] == "completed" and first["steps"] == 6
    rows = RunFolder(tmp_path / "first").read_metrics()
    assert [int(row["step"]) for row in rows] == [3, 6]
    for row in rows:
        train, test = float(row["gan_train"]), float(row["gan_test"])
        assert 0 <= train <= 1 and 0 <= test <= 1
        assert float(row["gan_train_test_hmean"]) == pytest.approx(2 * train * test / (train + test) if train + test
                                                                   else 0.0)
    # the toy classes are separable: the real-data classifier is near perfect on the 100 test images
    assert float(rows[-1]["real_accuracy"]) >= 0.95
    assert first["metric_cards"]["gan_train_test"]["reference"]["dataset"] == "mnist"


def test_a_second_run_reuses_the_cached_real_classifier_and_reproduces_every_value(runs):
    tmp_path, (first, first_log), (second, second_log) = runs
    trains_it = "real classifier (mnist/train, n=300"
    assert trains_it in first_log and trains_it not in second_log  # trained by the first run, loaded by the second
    assert len(list((tmp_path / "cache" / "classifiers").rglob("*.npz"))) == 1
    assert second["best"] == first["best"] and second["final"] == first["final"]
