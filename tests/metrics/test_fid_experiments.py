"""The FID sanity experiments on tiny synthetic data with the small domain encoder."""
from __future__ import annotations

import csv
import statistics

import pytest
import torch

from fid_testkit import SMALL_ENCODER, SYNTHETIC, NoisySquares, fixed_latents, expected_fid, squares
from gan_study.study.cli.fid_experiments import main
from gan_study.study.metrics.fid_sanity import (FIDSetup, GeneratorSource, bias_variance, encoder_sensitivity,
                                                mode_dropping, summarize)
from gan_study.study.metrics.encoders import EncoderSetup, build_encoder

CPU = torch.device("cpu")


def small_setup(cache_dir, seed: int = 0) -> FIDSetup:
    encoder = build_encoder("domain_classifier", **{**SMALL_ENCODER, "seed": seed})
    encoder.prepare(EncoderSetup(CPU, cache_dir, SYNTHETIC, lambda: squares(400, seed=1)))
    return FIDSetup(encoder, CPU, cache_dir, batch_size=128)


@pytest.fixture(scope="module")
def data():
    return squares(300, seed=2, split="test"), squares(400, seed=1, split="train")


def test_bias_variance_draws_random_training_subsets(metrics_cache, data):
    reference, pool = data
    setup = small_setup(metrics_cache)
    rows = bias_variance(setup, reference, pool, n=150, draws=4, seed=7)
    assert [row["draw"] for row in rows] == [0, 1, 2, 3]
    real = setup.encoder.encode(reference.images[:150]).features
    features = setup.encoder.encode(pool.images).features
    picks = torch.Generator().manual_seed(7)
    for row in rows:
        picked = torch.randperm(400, generator=picks)[:150]
        assert row["fid"] == expected_fid(real, features[picked])
    assert len({row["fid"] for row in rows}) == 4  # different draws, different values
    (summary,) = summarize(rows, "fid", ["dataset", "n"])
    assert summary["count"] == 4
    assert summary["fid_mean"] == pytest.approx(statistics.fmean(r["fid"] for r in rows))
    assert summary["fid_sd"] == pytest.approx(statistics.stdev(r["fid"] for r in rows))


def test_mode_dropping_fid_falls_as_classes_come_back(metrics_cache, data):
    reference, pool = data
    rows = mode_dropping(small_setup(metrics_cache), reference, pool, n=100, ks=[1, 5, 10], repeats=2, seed=0)
    assert [(row["k"], row["repeat"]) for row in rows] == [(1, 0), (1, 1), (5, 0), (5, 1), (10, 0), (10, 1)]
    assert rows[0]["with_replacement"] and rows[0]["pool_size"] == 40 and rows[0]["classes"] == "0"
    assert not rows[-1]["with_replacement"] and rows[-1]["pool_size"] == 400
    mean = {k: statistics.fmean(r["fid"] for r in rows if r["k"] == k) for k in (1, 5, 10)}
    assert mean[1] > mean[5] > mean[10]
    assert all(row["is"] >= 1.0 for row in rows)
    with pytest.raises(ValueError, match="k = 11 is not allowed"):
        mode_dropping(small_setup(metrics_cache), reference, pool, n=100, ks=[11], repeats=1)


def test_encoder_sensitivity_ranks_generators_alike(metrics_cache, data):
    reference, _ = data
    setups = {"a": small_setup(metrics_cache, seed=0), "b": small_setup(metrics_cache, seed=1)}
    generators = [GeneratorSource(f"noise {noise}", NoisySquares(noise), fixed_latents())
                  for noise in (0.9, 0.05, 0.5, 0.2)]
    rows, summary = encoder_sensitivity(setups, reference, generators, n=150)
    assert [row["generator"] for row in rows] == ["noise 0.9", "noise 0.05", "noise 0.5", "noise 0.2"]
    for column in ("fid_a", "fid_b"):
        ordered = sorted(rows, key=lambda row: row[column])
        assert [row["generator"] for row in ordered] == ["noise 0.05", "noise 0.2", "noise 0.5", "noise 0.9"]
    assert summary["spearman_rho"] == pytest.approx(1.0)
    assert rows[0]["fid_a"] != rows[0]["fid_b"]  # two different encoders


def test_command_writes_the_table_and_its_summary(tmp_path, capsys):
    out = tmp_path / "tables" / "bias_variance.csv"
    code = main(["bias-variance", "--dataset", SYNTHETIC, "--data-root", str(tmp_path), "--cache-dir",
                 str(tmp_path / "cache"), "--device", "cpu", "--encoder", "domain_classifier", "--n", "100",
                 "--draws", "3", "--out", str(out)])
    assert code == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 and {"dataset", "encoder", "n", "draw", "fid"} <= set(rows[0])
    with (tmp_path / "tables" / "bias_variance_summary.csv").open() as handle:
        (summary,) = list(csv.DictReader(handle))
    assert float(summary["fid_mean"]) == pytest.approx(statistics.fmean(float(r["fid"]) for r in rows))
    assert "bias-variance: 3 rows" in capsys.readouterr().out


def test_command_rejects_a_sample_larger_than_the_split_before_any_training(tmp_path, capsys):
    code = main(["mode-dropping", "--dataset", SYNTHETIC, "--data-root", str(tmp_path), "--cache-dir",
                 str(tmp_path / "cache"), "--device", "cpu", "--encoder", "domain_classifier", "--n", "5000",
                 "--out", str(tmp_path / "x.csv")])
    assert code == 2
    assert "n = 5000 is not allowed: between 2 and the 300 images" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()


def test_generator_from_run_restores_the_checkpointed_generator_and_eval_latents(tmp_path):
    """A run folder's checkpoint.pt (the training loop's layout) gives back its generator and its eval latents."""
    from gan_study.models.losses import get_loss
    from gan_study.study.train.trained_generator import generator_from_run

    torch.manual_seed(0)
    nets = get_loss("ns_gan")().build_networks((1, 28, 28), 8, True, "lrelu")
    config = {"model": {"name": "ns_gan", "loss_params": {}, "discriminator_batchnorm": True,
                        "generator_activation": "lrelu"},
              "dataset": {"image_shape": [1, 28, 28]}, "train": {"z_dim": 8}, "eval": {"seed": 42}}
    (tmp_path / "run").mkdir()
    torch.save({"config": config, "generator": nets.generator.state_dict(), "step": 7}, tmp_path / "run" / "checkpoint.pt")
    source = generator_from_run(tmp_path / "run", CPU)
    assert source.name == "run (step 7)"
    z = source.eval_latents(5)
    expected_z = torch.rand(5, 8, generator=torch.Generator().manual_seed(42)) * 2 - 1  # U[-1, 1], eval.seed
    torch.testing.assert_close(z, expected_z)
    nets.generator.eval()
    with torch.no_grad():
        torch.testing.assert_close(source.generator(z), nets.generator(z))
