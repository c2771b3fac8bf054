"""FID split sensitivity (random 6:1 partitions of all images) and the encoder-sensitivity generators read at each
run's best evaluation."""
from __future__ import annotations

import csv

import pytest
import torch

from fid_testkit import SYNTHETIC, expected_fid, squares
from gan_study.study.cli.fid_experiments import main
from gan_study.study.metrics.fid_sanity import split_sensitivity
from gan_study.study.train.checkpoint import save_generator
from gan_study.study.train.record import RunRecord
from gan_study.study.train.trained_generator import generator_from_run
from test_fid_experiments import CPU, small_setup


def test_each_partition_gives_one_fid_between_its_two_parts(metrics_cache):
    reference, pool = squares(140, seed=2, split="test"), squares(350, seed=1, split="train")
    setup = small_setup(metrics_cache)
    rows = split_sensitivity(setup, reference, pool, n=60, draws=3, ratio=6, seed=5)
    features = torch.cat([setup.encoder.encode(pool.images).features, setup.encoder.encode(reference.images).features])
    replay = torch.Generator().manual_seed(5)
    for draw, row in enumerate(rows):
        order = torch.randperm(490, generator=replay)  # small part: the first 490 // 7 = 70 images
        assert row["fid"] == expected_fid(features[order[:60]], features[order[70:130]])
        assert (row["draw"], row["n"], row["partition"]) == (draw, 60, "6:1 of train + test (490)")
    assert len({row["fid"] for row in rows}) == 3
    with pytest.raises(ValueError, match="n = 71 is not allowed: between 2 and the 70 images of the small part"):
        split_sensitivity(setup, reference, pool, n=71, draws=1)


def test_the_command_writes_the_partitions_and_refuses_a_too_large_n(tmp_path, capsys):
    common = ["split-sensitivity", "--dataset", SYNTHETIC, "--data-root", str(tmp_path), "--cache-dir",
              str(tmp_path / "cache"), "--device", "cpu", "--encoder", "domain_classifier"]
    assert main([*common, "--n", "200", "--out", str(tmp_path / "x.csv")]) == 2
    assert "n = 200 is not allowed: between 2 and the 100 images of the small part of a 6:1 partition of 700" in \
        capsys.readouterr().err  # the synthetic set: 400 train + 300 test images
    assert not (tmp_path / "cache").exists()
    out = tmp_path / "split.csv"
    assert main([*common, "--n", "80", "--draws", "2", "--out", str(out)]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["draw"] for row in rows] == ["0", "1"] and all(float(row["fid"]) > 0 for row in rows)
    assert "split-sensitivity: 2 rows" in capsys.readouterr().out


def test_the_best_checkpoint_is_the_generator_of_the_best_evaluation(tmp_path):
    from gan_study.models.losses import get_loss

    config = {"model": {"name": "ns_gan", "loss_params": {}, "discriminator_batchnorm": True,
                        "generator_activation": "lrelu"},
              "dataset": {"image_shape": [1, 28, 28]}, "train": {"z_dim": 8}, "eval": {"seed": 42}}
    run = tmp_path / "run"
    generators = {}
    for step in (3, 6):
        torch.manual_seed(step)
        generators[step] = get_loss("ns_gan")().build_networks((1, 28, 28), 8, True, "lrelu").generator.eval()
        save_generator(run / "generators", step, generators[step].state_dict(), config)
    RunRecord("completed", "ns_gan", "mnist", 0, 6, 6, best_step={"fid": 3}).write(run / "record.json")
    z = torch.rand(4, 8)
    with torch.no_grad():
        for checkpoint, step in (("best", 3), ("last", 6)):
            source = generator_from_run(run, CPU, checkpoint=checkpoint)
            assert source.name == f"run (step {step})"
            torch.testing.assert_close(source.generator(z), generators[step](z))
    with pytest.raises(ValueError, match=r"--metric 'kid' was not evaluated; its record has a best step of \['fid'\]"):
        generator_from_run(run, CPU, checkpoint="best", metric="kid")
