"""Pairwise verdicts: the exact P(better) against hand-computed values and enumeration, the bootstrap against it,
Holm and the trials needed against hand-computed numbers, and the interval's coverage by simulation."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from gan_study.analysis.verdicts import (bootstrap_p_value, decide, holm, p_better, pairwise_sample,
                                         percentile_interval, resample_counts, smallest_exact_p, trials_needed)
from gan_study.models.checks import ConfigError


def enumerate_p_better(a, b, k_a, k_b, replace):
    """Every equally likely pair of budgets: the share where A's best is lower, ties counting one half."""
    draws_a = list(itertools.product(a, repeat=k_a) if replace else itertools.combinations(a, k_a))
    draws_b = list(itertools.product(b, repeat=k_b) if replace else itertools.combinations(b, k_b))
    wins = [1.0 if min(x) < min(y) else 0.5 if min(x) == min(y) else 0.0 for x in draws_a for y in draws_b]
    return np.mean(wins)


def test_hand_computed_cases():
    # A = {1, 3}, B = {2, 4}, one draw each: A wins (1,2), (1,4), (3,4) of 4.
    assert p_better([1.0, 3.0], [2.0, 4.0], 1) == pytest.approx(3 / 4, abs=1e-15)
    # Two draws with replacement: A's best is 1 w.p. 3/4, 3 w.p. 1/4; B's best is 4 w.p. 1/4 -> 3/4 + 1/16.
    assert p_better([1.0, 3.0], [2.0, 4.0], 2) == pytest.approx(13 / 16, abs=1e-15)
    # Without replacement both budgets hold every trial: 1 < 2 surely.
    assert p_better([1.0, 3.0], [2.0, 4.0], 2, replace=False) == pytest.approx(1.0, abs=1e-15)
    # A tie counts one half: A = {1, 2}, B = {2, 3}: (1,2) (1,3) (2,3) win, (2,2) ties -> 3.5 / 4.
    assert p_better([1.0, 2.0], [2.0, 3.0], 1) == pytest.approx(7 / 8, abs=1e-15)
    # Diverged trials (+inf) beat nothing and tie with each other.
    assert p_better([np.inf], [5.0], 3) == 0.0
    assert p_better([np.inf, np.inf], [np.inf], 2) == pytest.approx(0.5)


A = np.array([3.0, 1.0, 4.0, 1.0, np.inf])
B = np.array([2.0, 7.0, 1.0, 8.0, np.inf, np.inf])


@pytest.mark.parametrize("replace", [True, False])
@pytest.mark.parametrize("k_a,k_b", [(1, 1), (2, 1), (1, 2), (3, 2), (2, 4)])
def test_exact_equals_enumeration_with_ties_and_diverged_trials(k_a, k_b, replace):
    assert p_better(A, B, k_a, k_b, replace=replace) == pytest.approx(enumerate_p_better(A, B, k_a, k_b, replace),
                                                                      abs=1e-12)


def test_budgets_as_an_array_and_the_two_orders_sum_to_one():
    k = np.array([1, 2, 5, 20])
    forward, backward = p_better(A, B, k), p_better(B, A, k)
    np.testing.assert_allclose(forward + backward, 1.0, atol=1e-12)
    assert forward[0] == pytest.approx(enumerate_p_better(A, B, 1, 1, True))


def test_maximised_scores_are_the_mirror_of_minimised_ones():
    f1_a, f1_b = np.array([0.2, 0.9, 0.5, 0.5, -np.inf]), np.array([0.7, 0.5, 0.1])
    for k in (1, 3):
        assert p_better(f1_a, f1_b, k, minimize=False) == pytest.approx(p_better(-f1_a, -f1_b, k), abs=1e-15)
    # Higher is better: 0.9 beats everything B has, so with many draws A almost surely wins.
    assert p_better(f1_a, f1_b, 60, minimize=False) > 0.999


def test_a_bad_budget_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match=r"k = 0 is not allowed: integers >= 1"):
        p_better(A, B, 0)
    with pytest.raises(ConfigError, match=r"k = 6 is not allowed: at most the 5 trials"):
        p_better(A, B, 6, 1, replace=False)


def test_resample_counts_draw_n_trials_each():
    counts = resample_counts(7, 500, np.random.default_rng(1))
    assert counts.shape == (500, 7) and (counts.sum(axis=1) == 7).all()
    assert counts.mean() == pytest.approx(1.0, abs=0.05)  # each trial is drawn once on average


def test_pairwise_sample_matches_the_exact_value_and_brackets_it():
    rng = np.random.default_rng(3)
    scores = [rng.normal(0.0, 1.0, 40), rng.normal(0.4, 1.0, 40), rng.normal(0.1, 1.0, 30)]
    budgets = [np.array([1, 3, 10])] * 3
    sample = pairwise_sample(scores, budgets, resamples=2000, seed=0)
    assert sample.pairs == [(0, 1), (0, 2), (1, 2)]
    for index, (i, j) in enumerate(sample.pairs):
        np.testing.assert_allclose(sample.exact[index], p_better(scores[i], scores[j], budgets[i]), atol=1e-12)
    lower, upper = percentile_interval(sample.bootstrap, 0.95)
    assert ((lower <= sample.exact) & (sample.exact <= upper)).all()
    # The bootstrap mean sits near the exact value (k = 1: the two-sample AUC, whose bootstrap is nearly unbiased).
    assert sample.bootstrap[:, :, 0].mean(axis=1) == pytest.approx(sample.exact[:, 0], abs=0.01)


def true_p_better(shift: float, k: int) -> float:
    """A ~ N(0, 1), B ~ N(shift, 1): P(min of k draws of A < min of k draws of B), by quadrature."""
    density = lambda x: k * norm.pdf(x) * norm.sf(x) ** (k - 1)  # noqa: E731 (the min of k standard normals)
    return integrate.quad(lambda x: density(x) * norm.sf(x - shift) ** k, -np.inf, np.inf)[0]


def test_interval_coverage_by_simulation():
    """200 simulated studies of 40 trials per loss: the 90% percentile interval covers the true P(better) about 90%
    of the time at small budgets and less as k nears n (the best of k is then an extreme order statistic, whose
    bootstrap is known to be poor). Measured with this seed: k = 1, 3, 10, 40 -> 0.91, 0.905, 0.87, 0.81."""
    budgets = np.array([1, 3, 10, 40])
    truth = np.array([true_p_better(0.3, k) for k in budgets])
    assert truth[0] == pytest.approx(norm.cdf(0.3 / np.sqrt(2)), abs=1e-9)
    rng = np.random.default_rng(2024)
    covered = np.zeros(len(budgets))
    studies = 200
    for study in range(studies):
        scores = [rng.normal(0.0, 1.0, 40), rng.normal(0.3, 1.0, 40)]
        sample = pairwise_sample(scores, [budgets] * 2, resamples=400, seed=study)
        lower, upper = percentile_interval(sample.bootstrap, 0.90)
        covered += (lower[0] <= truth) & (truth <= upper[0])
    coverage = covered / studies
    np.testing.assert_allclose(coverage, [0.91, 0.905, 0.87, 0.81], atol=1e-12)
    assert (np.abs(coverage[:3] - 0.90) < 0.05).all()  # k <= n / 4: within 5 points of nominal


def test_holm_against_hand_computed_adjustment():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06.
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02], atol=1e-15)
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])


def test_bootstrap_p_value_and_decision():
    replicates = np.array([0.55, 0.6, 0.7, 0.45, 0.8, 0.65, 0.52, 0.58, 0.62, 0.75])[:, None]
    assert bootstrap_p_value(replicates)[0] == pytest.approx(0.2)  # 1 of 10 at or below 1/2, doubled
    assert list(decide([0.7, 0.2, 0.7], [0.01, 0.01, 0.2], 0.05)) == ["A better", "B better", "no evidence"]


def test_trials_needed_against_hand_computed_values():
    # 20 trials each, se 0.1, estimate 0.6, one pair: N = 20 (1.959964 * 0.1 / 0.1)^2 = 76.83 -> 77.
    assert trials_needed(0.6, 0.1, 20, 20, 0.05, 1) == 77
    # Three pairs: z at 0.05 / 3 two-sided = 2.393980: N = 20 * 2.393980^2 = 114.62 -> 115.
    assert trials_needed(0.6, 0.1, 20, 20, 0.05, 3) == 115
    # 10 and 30 trials: n_h = 2 / (1/10 + 1/30) = 15: N = 15 * 3.841459 = 57.62 -> 58.
    assert trials_needed(0.4, 0.1, 10, 30, 0.05, 1) == 58
    assert trials_needed(0.5, 0.1, 20, 20, 0.05, 1) == np.inf
    assert trials_needed(0.9, 0.01, 20, 20, 0.05, 1) == 21  # already decided by the projection: one more trial


def test_the_p_value_floor_of_an_exact_test():
    # 3 trials against 3: 20 ways to split 6 trials, the two most extreme of them -> 2 / 20.
    assert smallest_exact_p(3, 3) == pytest.approx(0.1, abs=1e-12)
    assert smallest_exact_p(10, 10) == pytest.approx(2 / 184756, rel=1e-9)
    assert smallest_exact_p(1, 1) == 1.0
    # Perfectly separated 3 against 3 with Holm over 3 pairs: 5 each are needed, 2 / C(10, 5) = 0.0079 < 0.05 / 3.
    assert trials_needed(0.0, 0.0, 3, 3, 0.05, 3) == 5
