"""The seeds' share of the variance and the cross-data-set aggregates against hand-computed values, and in the report."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_studies import seed_study, tables_of, wide_search

from gan_study.analysis.aggregates import aggregate_frames, normalised_scores
from gan_study.analysis.comparisons import VerdictOptions
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.report import build_report
from gan_study.analysis.scores import score_spec
from gan_study.analysis.variance import seed_share, variance_frame


def test_seed_share_by_hand():
    # Var([1, 2, 3]) = 1; Var([0, 2, 4, 6]) = 20 / 3: seeds explain 3 / 20 of the search's variance.
    result = seed_share([1.0, 2.0, 3.0], [0.0, 2.0, 4.0, 6.0], resamples=500)
    assert result["seed_share"] == pytest.approx(0.15, abs=1e-15)
    assert result["hyperparameter_share"] == pytest.approx(0.85, abs=1e-15)
    assert 0.0 <= result["lower"] <= result["upper"] <= 1.0
    assert seed_share([1.0, 5.0], [2.0, 3.0], resamples=10)["seed_share"] == 1.0  # capped: noisier seeds than search


def test_seed_share_interval_covers_the_truth_by_simulation():
    """Seeds ~ N(0, 1), search ~ N(0, 4): the true share is 1/4. 100 simulated studies of 50 + 100 trials: the 90%
    interval covered it 92 times with this seed."""
    rng = np.random.default_rng(11)
    covered = 0
    for study in range(100):
        result = seed_share(rng.normal(0, 1, 50), rng.normal(0, 2, 100), resamples=500, level=0.90, seed=study)
        covered += result["lower"] <= 0.25 <= result["upper"]
    assert covered == 92


def test_variance_frame_reads_the_seed_study_and_the_search():
    tables = tables_of(wide_search(datasets=("mnist",), n=20, models=("ns_gan", "wgan_gp")),
                       seed_study(datasets=("mnist",), n_seeds=8, models=("ns_gan", "wgan_gp")))
    spec = score_spec(tables.trials, "fid")
    frame = variance_frame(tables.trials, spec, "wide", resamples=200)
    assert list(frame["model"]) == ["ns_gan", "wgan_gp"]
    trials = tables.trials
    seeds = trials[trials["seed_study"] & (trials["model"] == "wgan_gp")]["best_fid"]
    search = trials[~trials["seed_study"] & (trials["model"] == "wgan_gp") & (trials["status"] == "completed")]["best_fid"]
    row = frame.iloc[1]
    assert row["n_seeds"] == 8 and row["seed_variance"] == pytest.approx(seeds.var(ddof=1), rel=1e-12)
    assert row["seed_share"] == pytest.approx(min(1, seeds.var(ddof=1) / search.var(ddof=1)), rel=1e-12)


def two_datasets() -> pd.DataFrame:
    from synthetic_studies import trial_rows
    parts = [trial_rows("s", "ns_gan", "mnist", "wide", [10.0, 20.0, 30.0]),
             trial_rows("s", "wgan_gp", "mnist", "wide", [20.0, 40.0], first_trial=3),
             trial_rows("s", "ns_gan", "cifar10", "wide", [50.0, 70.0], first_trial=5),
             trial_rows("s", "wgan_gp", "cifar10", "wide", [60.0, 80.0, np.inf], first_trial=7,
                        statuses=["completed", "completed", "diverged"])]
    return tables_of(*[(p, p.iloc[:0][["study", "trial", "model", "dataset"]].assign(step=[])) for p in parts]).trials


def test_normalised_scores_by_hand():
    trials = two_datasets()
    trials["diverged_rule"] = "worst"
    frame = normalised_scores(trials, score_spec(trials, "fid"), "wide")
    # MNIST: best 10, worst 40 -> (40 - x) / 30; CIFAR10: best 50, worst 80 -> (80 - x) / 30; diverged -> 0.
    expected = [1.0, 2 / 3, 1 / 3, 2 / 3, 0.0, 1.0, 1 / 3, 2 / 3, 0.0, 0.0]
    np.testing.assert_allclose(frame["normalised"], expected, atol=1e-15)
    summary, profiles = aggregate_frames(trials, score_spec(trials, "fid"), "wide", resamples=200, taus=[0.5])
    # NS GAN's five scores 1, 2/3, 1/3, 1, 1/3: IQM cuts one from each end -> mean(1/3, 2/3, 1) = 2/3.
    assert summary.set_index("model").loc["ns_gan", "iqm"] == pytest.approx(2 / 3, abs=1e-15)
    # Above 0.5: MNIST 2 of 3, CIFAR10 1 of 2 -> (2/3 + 1/2) / 2.
    assert profiles.set_index("model").loc["ns_gan", "fraction"] == pytest.approx(7 / 12, abs=1e-15)


def test_report_shows_variance_and_aggregate_tables_and_the_profile_figure(tmp_path):
    tables = tables_of(wide_search(datasets=("mnist", "cifar10"), n=8, models=("ns_gan", "wgan_gp")),
                       seed_study(datasets=("mnist",), n_seeds=5, models=("ns_gan", "wgan_gp")))
    inputs = ReportInputs(tables, ReportOptions(verdicts=VerdictOptions(resamples=100)))
    result = build_report(inputs, tmp_path / "report", figures=["performance_profiles"])
    assert "performance_profiles" in result.figures
    names = [t.name for t in result.tables]
    assert {"verdicts", "variance_shares", "aggregates"} <= set(names)
    page = result.page.read_text()
    assert 'id="table-variance_shares"' in page and 'id="table-aggregates"' in page
