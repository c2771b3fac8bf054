"""t-SNE of classifier features on a real (tiny) class-conditional run: n real + n generated rows, the generated
ones labelled by their requested class, the features the classifier's last-layer inputs; bad values refused first."""
from __future__ import annotations

import csv

import pytest
import torch

from gan_study.study.cli.tsne import classifier_features, main
from gan_study.study.config import validate
from gan_study.study.metrics.classifiers import ConvNet
from gan_study.study.train.run import run_training
from tests.conftest import compose
from tests.labelled_data import write_labelled_mnist

SMALL = ["--iterations", "8", "--width", "4", "--batch-size", "16", "--lr", "0.05", "--device", "cpu"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("labelled")
    write_labelled_mnist(root, train_count=80, test_count=40)
    folder = tmp_path_factory.mktemp("conditional")
    cfg = validate(compose(["train=tiny", "eval=none", "model=ns_gan", "dataset=mnist", f"data_root={root}",
                            "conditional.enabled=true"]))
    assert run_training(cfg, folder).status == "completed"
    return root, folder


def test_the_features_are_the_inputs_of_the_last_layer():
    torch.manual_seed(0)
    net = ConvNet(1, 10, width=4).eval()
    images = torch.rand(7, 1, 28, 28)
    with torch.no_grad():
        expected = net.features(images * 2 - 1)  # ConvNet.forward: classifier(features(2x - 1))
    torch.testing.assert_close(classifier_features(net, images, torch.device("cpu"), batch_size=3), expected)


def test_the_embedding_holds_each_real_and_generated_image(run, tmp_path, capsys):
    root, folder = run
    out = tmp_path / "tsne.csv"
    assert main(["--run", str(folder), "--n", "30", "--perplexity", "5", "--data-root", str(root), "--cache-dir",
                 str(tmp_path / "cache"), "--out", str(out), *SMALL]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    real = [r for r in rows if r["source"] == "real"]
    generated = [r for r in rows if r["source"] == "generated"]
    assert len(real) == len(generated) == 30
    assert [int(r["label"]) for r in generated] == [k % 10 for k in range(30)]  # the requested classes
    assert all(r["dataset"] == "mnist" and r["run"] == folder.name for r in rows)
    assert len({(r["x"], r["y"]) for r in rows}) == 60  # every image has its own point
    assert "30 real + 30 generated images of mnist" in capsys.readouterr().out


def test_bad_values_are_refused_before_any_training(run, tmp_path, capsys):
    root, folder = run
    common = ["--run", str(folder), "--data-root", str(root), "--cache-dir", str(tmp_path / "cache"),
              "--out", str(tmp_path / "x.csv"), *SMALL]
    assert main([*common, "--n", "500"]) == 2
    assert "--n 500 is not allowed: between 2 and the 40 images of mnist/test" in capsys.readouterr().err
    assert main([*common, "--n", "10", "--perplexity", "50"]) == 2
    assert "--perplexity 50.0 is not allowed: in (0, 2·n = 20)" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists() and not (tmp_path / "x.csv").exists()
