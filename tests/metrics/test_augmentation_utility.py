"""The data-augmentation utility on a real (tiny) class-conditional run: the ratio-0 point is the real-only
classifier, trained here independently; the other points add round(ratio·n_real) generated images."""
from __future__ import annotations

import csv

import pytest
import torch

from gan_study.study.cli.augmentation import main
from gan_study.study.config import validate
from gan_study.study.data import load_dataset
from gan_study.study.metrics.classifiers import ClassifierOptions, accuracy, train_classifier
from gan_study.study.train.run import run_training
from tests.conftest import compose
from tests.labelled_data import write_labelled_mnist

SMALL = ["--iterations", "12", "--width", "4", "--batch-size", "16", "--lr", "0.05", "--device", "cpu"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("labelled")
    write_labelled_mnist(root, train_count=120, test_count=40)
    folders = {}
    for name, extra in (("conditional", ["conditional.enabled=true"]), ("plain", [])):
        folders[name] = tmp_path_factory.mktemp(name)
        cfg = validate(compose(["train=tiny", "eval=none", "model=ns_gan", "dataset=mnist", f"data_root={root}", *extra]))
        assert run_training(cfg, folders[name]).status == "completed"
    return root, folders


def test_the_curve_starts_at_the_real_only_classifier(runs, tmp_path, capsys):
    root, folders = runs
    out = tmp_path / "augmentation.csv"
    assert main(["--run", str(folders["conditional"]), "--n-real", "60", "--ratios", "1", "0.5", "--data-root",
                 str(root), "--out", str(out), *SMALL]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(float(r["ratio"]), int(r["n_generated"])) for r in rows] == [(0.0, 0), (0.5, 30), (1.0, 60)]
    assert all(r["dataset"] == "mnist" and r["n_real"] == "60" and r["test_images"] == "40" for r in rows)
    real, test = load_dataset("mnist", root, "train"), load_dataset("mnist", root, "test")
    options = ClassifierOptions(iterations=12, width=4, batch_size=16, lr=0.05).resolved(real.shape)
    baseline = train_classifier(real.images[:60], real.labels[:60], 10, options, torch.device("cpu"))
    assert float(rows[0]["accuracy"]) == accuracy(baseline, test.images, test.labels, torch.device("cpu"))
    assert "ratio 1 (60 real + 60 generated): accuracy" in capsys.readouterr().out


def test_an_unconditional_run_or_a_bad_value_is_refused_before_any_training(runs, tmp_path, capsys):
    root, folders = runs
    common = ["--data-root", str(root), "--out", str(tmp_path / "x.csv"), *SMALL]
    assert main(["--run", str(folders["plain"]), "--n-real", "60", *common]) == 2
    assert "the run is not class-conditional (conditional.enabled=false)" in capsys.readouterr().err
    assert main(["--run", str(folders["conditional"]), "--n-real", "500", *common]) == 2
    assert "--n-real 500 is not allowed: between 2 and the 120 images of mnist/train" in capsys.readouterr().err
    assert main(["--run", str(folders["conditional"]), "--n-real", "60", "--ratios", "-1", *common]) == 2
    assert not (tmp_path / "x.csv").exists()
