"""The best of k trials: the exact expectation against enumeration and the bootstrap, and the bootstrap's band."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gan_study.analysis.budget import (best_of_k, bootstrap_curve, bootstrap_minima, exact_curve, expected_best,
                             probability_all_diverged)

SMALL = np.array([3.0, 1.0, 4.0, 1.0, 5.0])  # ties included
WITH_DIVERGED = np.array([3.0, np.inf, 2.0, 7.0, np.inf])


def enumerate_best(scores, k, replace, minimize=True):
    """Every equally likely budget: all n^k ordered draws, or all C(n, k) subsets."""
    draws = itertools.product(scores, repeat=k) if replace else itertools.combinations(scores, k)
    return np.array([min(d) if minimize else max(d) for d in draws])


def mean_given_success(minima):
    finite = minima[np.isfinite(minima)]
    return finite.mean(), finite.std(), 1 - len(finite) / len(minima)


@pytest.mark.parametrize("replace", [True, False])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_expected_best_equals_enumeration(k, replace):
    assert expected_best(SMALL, k, replace=replace) == pytest.approx(enumerate_best(SMALL, k, replace).mean(),
                                                                    rel=1e-12)


@pytest.mark.parametrize("replace", [True, False])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_maximised_scores_equal_enumeration(k, replace):
    f1 = np.array([0.2, 0.9, 0.5, 0.5, -np.inf])  # a diverged trial is -inf when maximising
    minima = enumerate_best(f1, k, replace, minimize=False)
    mean, sd, p_none = mean_given_success(-minima)
    assert expected_best(f1, k, minimize=False, replace=replace, given_success=True) == pytest.approx(-mean)
    assert probability_all_diverged(f1, k, minimize=False, replace=replace) == pytest.approx(p_none)


@pytest.mark.parametrize("replace", [True, False])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_diverged_trials_against_enumeration(k, replace):
    minima = enumerate_best(WITH_DIVERGED, k, replace)
    mean, sd, p_none = mean_given_success(minima)
    assert probability_all_diverged(WITH_DIVERGED, k, replace=replace) == pytest.approx(p_none, abs=1e-12)
    assert expected_best(WITH_DIVERGED, k, replace=replace, given_success=True) == pytest.approx(mean, rel=1e-12)
    curve = exact_curve(WITH_DIVERGED, [k], replace=replace)
    assert curve.sd[0] == pytest.approx(sd, rel=1e-9, abs=1e-12)
    plain = expected_best(WITH_DIVERGED, k, replace=replace)
    assert plain == (math.inf if p_none > 0 else pytest.approx(minima.mean()))


def test_diverged_trials_make_the_plain_expectation_infinite_only_when_all_can_diverge():
    # With replacement, k draws can always all land on a diverged trial; without, not once k > #diverged.
    assert expected_best(WITH_DIVERGED, 5, replace=True) == math.inf
    # 3 of {3, inf, 2, 7, inf}: 6 of the 10 subsets hold the 2; of the other 4, three hold the 3, one only the 7.
    assert expected_best(WITH_DIVERGED, 3, replace=False) == pytest.approx((6 * 2.0 + 3 * 3.0 + 7.0) / 10)
    assert math.isnan(expected_best([np.inf, np.inf], 1, given_success=True))  # no measured trial at all


def test_monotone_in_k_and_limit_is_the_minimum():
    rng = np.random.default_rng(3)
    scores = rng.gamma(2.0, 20.0, size=40)
    k = np.arange(1, 41)
    for replace in (True, False):
        means = expected_best(scores, k, replace=replace)
        assert np.all(np.diff(means) < 0)
        assert means[0] == pytest.approx(scores.mean())
    assert expected_best(scores, 40, replace=False) == pytest.approx(scores.min())
    # With replacement the best of k approaches the minimum only as k grows: (1 - 1/n)^k of the mass stays above it.
    gap_bound = (1 - 1 / 40) ** 20000 * (scores.max() - scores.min())
    assert 0 <= expected_best(scores, 20000) - scores.min() <= gap_bound


def test_expected_best_agrees_with_a_large_bootstrap():
    rng = np.random.default_rng(7)
    scores = np.concatenate([rng.lognormal(3.0, 0.5, size=30), [np.inf] * 3])
    k = np.array([1, 2, 5, 10, 30])
    resamples = 40000
    boot = bootstrap_curve(scores, k, resamples=resamples, seed=11)
    exact = exact_curve(scores, k)
    standard_error = exact.sd / np.sqrt(resamples * (1 - exact.p_all_diverged))
    assert np.all(np.abs(boot.mean - exact.mean) < 4 * standard_error)
    assert np.allclose(boot.sd, exact.sd, rtol=0.05)
    p = exact.p_all_diverged
    assert np.all(np.abs(boot.p_all_diverged - p) < 4 * np.sqrt(p * (1 - p) / resamples) + 1e-12)


def test_bootstrap_is_deterministic_given_the_seed():
    scores = np.random.default_rng(0).normal(50, 10, size=25)
    first = bootstrap_minima(scores, np.arange(1, 26), resamples=300, seed=5)
    again = bootstrap_minima(scores, np.arange(1, 26), resamples=300, seed=5)
    other = bootstrap_minima(scores, np.arange(1, 26), resamples=300, seed=6)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("replace", [True, False])
def test_bootstrap_band_equals_a_direct_computation(replace):
    rng = np.random.default_rng(1)
    scores = np.concatenate([rng.normal(30, 5, size=18), [np.inf, np.inf]])
    k = np.arange(1, 21)
    minima = bootstrap_minima(scores, k, resamples=500, replace=replace, seed=2)
    assert np.all(minima[:, 1:] <= minima[:, :-1])  # the best of k+1 draws is never worse
    sd_curve = bootstrap_curve(scores, k, resamples=500, replace=replace, seed=2)
    pct_curve = bootstrap_curve(scores, k, resamples=500, replace=replace, seed=2, interval="percentile", level=0.8)
    for j in range(len(k)):
        column = minima[:, j][np.isfinite(minima[:, j])]
        assert sd_curve.mean[j] == pytest.approx(column.mean())
        assert sd_curve.sd[j] == pytest.approx(column.std())
        assert sd_curve.lower[j] == pytest.approx(column.mean() - column.std())
        assert pct_curve.lower[j] == pytest.approx(np.quantile(column, 0.1))
        assert pct_curve.upper[j] == pytest.approx(np.quantile(column, 0.9))
        assert sd_curve.p_all_diverged[j] == pytest.approx(1 - len(column) / 500)
    if not replace:  # more than two draws without replacement always include a measured trial
        assert np.all(sd_curve.p_all_diverged[2:] == 0)


def test_maximised_band_mirrors_the_minimised_one():
    scores = np.random.default_rng(4).uniform(0, 1, size=15)
    low = bootstrap_curve(-scores, resamples=400, seed=3, interval="percentile")
    high = bootstrap_curve(scores, resamples=400, seed=3, interval="percentile", minimize=False)
    assert np.allclose(high.mean, -low.mean)
    assert np.allclose(high.lower, -low.upper) and np.allclose(high.upper, -low.lower)
    exact_low, exact_high = exact_curve(-scores, interval="percentile"), exact_curve(scores, minimize=False,
                                                                                       interval="percentile")
    assert np.allclose(exact_high.lower, -exact_low.upper) and np.allclose(exact_high.upper, -exact_low.lower)


def test_exact_percentiles_equal_enumeration():
    minima = enumerate_best(SMALL, 3, replace=True)
    curve = exact_curve(SMALL, [3], interval="percentile", level=0.5)
    ordered = np.sort(minima)
    # The lower inverse CDF: the smallest value with at least q of the mass at or below it.
    cdf = np.arange(1, len(ordered) + 1) / len(ordered)
    assert curve.lower[0] == ordered[np.argmax(cdf >= 0.25 - 1e-12)]
    assert curve.upper[0] == ordered[np.argmax(cdf >= 0.75 - 1e-12)]


def test_probabilities_sum_to_one():
    distribution = best_of_k(WITH_DIVERGED, np.arange(1, 6), replace=False)
    assert np.allclose(distribution.probabilities.sum(axis=1), 1.0)


@pytest.mark.parametrize("scores, k, replace, message", [
    ([1.0, np.nan], 1, True, "NaN"),
    ([], 1, True, "empty"),
    ([1.0, 2.0], 3, False, "k = 3 > n = 2"),
    ([1.0, 2.0], 0, True, "budgets are integers >= 1"),
    ([1.0, 2.0], 1.5, True, "budgets are integers >= 1"),
    ([1.0, -np.inf], 1, True, "-inf"),
])
def test_bad_input_is_named(scores, k, replace, message):
    with pytest.raises(ValueError, match=message):
        expected_best(scores, k, replace=replace)


def test_bad_interval_is_named():
    with pytest.raises(ValueError, match="interval = 'iqr'"):
        bootstrap_curve([1.0, 2.0], interval="iqr")
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_minima([1.0, 2.0], [1], resamples=0)
