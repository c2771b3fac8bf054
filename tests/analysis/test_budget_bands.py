"""The budget band respects the score's range: mean ± 1 sd is cut at FID >= 0 and at F1 <= 1; percentiles stay inside."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gan_study.analysis.scores import BudgetOptions, ScoreSpec, budget_frame

EXACT = BudgetOptions(method="exact")


def trials(metric: str, scores: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"dataset": "mnist", "search": "wide", "model": model, "seed_study": False, "status": "completed",
             f"best_{metric}": value} for model, values in scores.items() for value in values]
    return pd.DataFrame(rows)


def best_of_k_moments(values: list[float], k: int, minimize: bool) -> tuple[float, float]:
    """Mean and sd of the best of k draws with replacement, from P(best is the i-th best) = ((n-i)^k - (n-i-1)^k)/n^k."""
    ordered = sorted(values, reverse=not minimize)
    n = len(ordered)
    p = np.array([((n - i) ** k - (n - i - 1) ** k) / n ** k for i in range(n)])
    mean = float(p @ ordered)
    return mean, float(np.sqrt(p @ (np.array(ordered) - mean) ** 2))


def test_the_sd_band_of_fid_is_cut_at_zero_and_left_alone_above_it():
    scores = {"skewed": [1.0, 2.0, 30.0], "tight": [10.0, 11.0, 12.0]}
    frame = budget_frame(trials("fid", scores), ScoreSpec("fid"), EXACT)
    for model, values in scores.items():
        rows = frame[frame["model"] == model].sort_values("k")
        moments = [best_of_k_moments(values, k, True) for k in (1, 2, 3)]
        assert rows["mean"].to_numpy() == pytest.approx([m for m, _ in moments])
        assert rows["upper"].to_numpy() == pytest.approx([m + s for m, s in moments])
        assert rows["lower"].to_numpy() == pytest.approx([max(m - s, 0.0) for m, s in moments])
    skewed = frame[frame["model"] == "skewed"]
    assert (skewed["mean"] - skewed["sd"] < 0).all() and (skewed["lower"] == 0).all()  # 11 - 13.4 < 0 at k = 1
    assert (frame.loc[frame["model"] == "tight", "lower"] > 0).all()


def test_the_sd_band_of_f1_is_cut_at_one():
    values = [0.5, 0.9, 0.99]
    frame = budget_frame(trials("f1", {"m": values}), ScoreSpec("f1", direction="maximize"), EXACT)
    mean, sd = best_of_k_moments(values, 1, False)
    assert mean + sd > 1
    first = frame[frame["k"] == 1].iloc[0]
    assert (first["upper"], first["lower"]) == (1.0, pytest.approx(mean - sd))


def test_the_percentile_band_lies_within_the_scores():
    values = [1.0, 2.0, 30.0, 3.0, 4.5]
    frame = budget_frame(trials("fid", {"m": values}), ScoreSpec("fid"),
                         BudgetOptions(interval="percentile", resamples=2000))
    assert frame["interval"].eq("percentile").all()
    assert (frame["lower"] >= min(values)).all() and (frame["upper"] <= max(values)).all()
    assert (frame["lower"] <= frame["mean"]).all() and (frame["mean"] <= frame["upper"]).all()


@pytest.mark.parametrize("metric, bounds", [("fid", (0, np.inf)), ("fid_domain_classifier", (0, np.inf)),
                                            ("is", (1, np.inf)), ("gan_train", (0, 1)), ("kid", (-np.inf, np.inf)),
                                            ("precision_median_distance", (0, np.inf)), ("swd_32", (0, np.inf)),
                                            ("my_score", (-np.inf, np.inf))])
def test_each_metric_has_its_range(metric, bounds):
    assert ScoreSpec(metric).bounds == bounds


def test_the_demos_median_distance_band_is_cut_at_zero():
    """The demo's objective is a distance: its mean - sd band (WGAN-GP's [163.5, 61.7, 11.2]-like spread) stops at 0."""
    values = [163.5, 61.7, 11.2]
    frame = budget_frame(trials("precision_median_distance", {"wgan_gp": values}),
                         ScoreSpec("precision_median_distance"), EXACT)
    moments = [best_of_k_moments(values, k, True) for k in (1, 2, 3)]
    assert any(m - s < 0 for m, s in moments)
    assert frame.sort_values("k")["lower"].to_numpy() == pytest.approx([max(m - s, 0.0) for m, s in moments])
