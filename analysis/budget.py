"""The best score among k trials: exact order statistics and the paper's bootstrap.

The paper's main result is the distribution of the best FID a researcher gets from k trained
hyperparameter settings (docs/protocol.md#budget-curves). Two estimators of that distribution live here:

* exact: the best of k draws from the empirical distribution of the n observed scores has a closed
  form distribution over the sorted scores (order statistics), so its expectation and spread carry no
  Monte-Carlo noise;
* bootstrap: the paper's procedure, B resamples of k trials (with replacement by default), whose
  mean ± 1 sd (or a percentile interval) is drawn as the band.

A diverged trial without a finite score (one scored by the strict rule, or one that diverged before its
first evaluation; see `gan_study.analysis.scores`) is a score of +inf when minimising (-inf when
maximising): it never wins, but it uses up budget. With replacement any such trial gives every budget a
positive chance that all k trials diverged, which makes the plain expectation infinite; the budget
statistics therefore also report that chance and the statistics *given at least one measured trial*
(`given_success=True`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from gan_study.models.checks import check, choice


INTERVALS = ("sd", "percentile")


def signed_scores(scores: ArrayLike, minimize: bool) -> NDArray[np.float64]:
    """Scores sorted best-first as a minimisation problem (maximised metrics are negated)."""
    values = np.asarray(scores, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("scores is empty: the best of k trials needs at least one trial")
    if np.isnan(values).any():
        raise ValueError(f"scores contains {int(np.isnan(values).sum())} NaN value(s); a diverged trial is "
                         "+inf (minimised) or -inf (maximised), a trial without a score is not a draw")
    signed = values if minimize else -values
    if np.isneginf(signed).any():
        worst = "-inf" if minimize else "+inf"
        raise ValueError(f"scores contains {worst}, a score better than any other; diverged trials are "
                         f"{'+inf' if minimize else '-inf'} when {'minimising' if minimize else 'maximising'}")
    return np.sort(signed)


def _as_budgets(k: ArrayLike, n: int, replace: bool) -> NDArray[np.int64]:
    budgets = np.atleast_1d(np.asarray(k))
    if budgets.size == 0 or not np.issubdtype(budgets.dtype, np.integer) or (budgets < 1).any():
        raise ValueError(f"k = {k!r}: budgets are integers >= 1")
    if not replace and (budgets > n).any():
        raise ValueError(f"k = {int(budgets.max())} > n = {n} trials: without replacement a budget cannot "
                         "exceed the number of trials (use replace=True)")
    return budgets.astype(np.int64)


def _survival(n: int, budgets: NDArray[np.int64], replace: bool) -> NDArray[np.float64]:
    """S[j, i] = P(every one of k_j draws has sorted rank >= i), i = 0..n (S[:, n] = 0)."""
    remaining = np.arange(n, -1, -1, dtype=np.float64)  # n - i trials at rank >= i
    k = budgets[:, None].astype(np.float64)
    if replace:
        return (remaining / n)[None, :] ** k
    # C(n - i, k) / C(n, k), zero where fewer than k trials remain.
    with np.errstate(invalid="ignore"):
        log_ratio = (gammaln(remaining + 1) - gammaln(remaining - k + 1)
                     - gammaln(n + 1) + gammaln(n - k + 1))
    return np.where(remaining[None, :] >= k, np.exp(log_ratio), 0.0)


@dataclass(frozen=True)
class BestOfK:
    """The exact distribution of the best of k draws: P(best = sorted[i]) for each budget (rows)."""

    sorted_scores: NDArray[np.float64]   # as a minimisation problem, best first; +inf = diverged
    probabilities: NDArray[np.float64]   # (budgets, n)
    minimize: bool

    @property
    def p_all_diverged(self) -> NDArray[np.float64]:
        return self.probabilities[:, ~np.isfinite(self.sorted_scores)].sum(axis=1)

    def moments(self, given_success: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mean and sd of the best score, unconditionally (inf if any chance of all diverged) or given ≥1 success."""
        finite = np.isfinite(self.sorted_scores)
        values = self.sorted_scores[finite]
        weights = self.probabilities[:, finite]
        success = weights.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            weights = weights / success[:, None]
            mean = np.where(success > 0, weights @ values, np.nan)  # NaN: no measured trial can be drawn
            sd = np.sqrt(np.maximum((weights * (values[None, :] - mean[:, None]) ** 2).sum(axis=1), 0.0))
        sd = np.where(success > 0, sd, np.nan)
        if not given_success:
            infinite = self.p_all_diverged > 0
            mean = np.where(infinite, np.inf, mean)
            sd = np.where(infinite, np.nan, sd)
        sign = 1.0 if self.minimize else -1.0
        return sign * mean, sd


def best_of_k(scores: ArrayLike, k: ArrayLike, minimize: bool = True, replace: bool = True) -> BestOfK:
    """The exact distribution of the best of k draws from the empirical distribution of `scores`."""
    signed = signed_scores(scores, minimize)
    budgets = _as_budgets(k, signed.size, replace)
    survival = _survival(signed.size, budgets, replace)
    return BestOfK(signed, survival[:, :-1] - survival[:, 1:], minimize)


def expected_best(scores: ArrayLike, k: ArrayLike, minimize: bool = True, replace: bool = True,
                  given_success: bool = False) -> float | NDArray[np.float64]:
    """Exact E[best of k draws] from the empirical distribution of `scores`, for one budget or an array.

    With `given_success=False` (the plain expectation) the result is ±inf whenever the k draws can all
    be diverged trials; `given_success=True` gives the expectation given at least one measured trial.
    """
    mean, _ = best_of_k(scores, k, minimize, replace).moments(given_success)
    return float(mean[0]) if np.ndim(k) == 0 else mean


def probability_all_diverged(scores: ArrayLike, k: ArrayLike, minimize: bool = True,
                             replace: bool = True) -> float | NDArray[np.float64]:
    """Exact chance that a budget of k trials holds no measured trial at all."""
    p = best_of_k(scores, k, minimize, replace).p_all_diverged
    return float(p[0]) if np.ndim(k) == 0 else p


@dataclass(frozen=True)
class BudgetCurve:
    """Statistics of the best score for each budget k, as the budget figure draws them.

    `mean`, `sd`, `lower`, `upper` are given at least one trial with a finite score in the budget;
    `p_all_diverged` is the chance that there was none.
    """

    k: NDArray[np.int64]
    mean: NDArray[np.float64]
    sd: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    p_all_diverged: NDArray[np.float64]
    method: str
    interval: str


def _column_quantiles(sorted_columns: NDArray[np.float64], counts: NDArray[np.int64],
                      q: float) -> NDArray[np.float64]:
    """Linear-interpolation quantile of the first counts[j] (finite) entries of each sorted column."""
    position = np.maximum(counts - 1, 0) * q
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(counts - 1, 0))
    columns = np.arange(sorted_columns.shape[1])
    low, high = sorted_columns[below, columns], sorted_columns[above, columns]
    with np.errstate(invalid="ignore"):
        value = low + (high - low) * (position - below)
    return np.where(counts > 0, value, np.nan)


def _check_interval(interval: str, level: float) -> None:
    choice("interval", interval, INTERVALS)
    check(0.0 < level < 1.0, "level", level, "the percentile interval's coverage, in (0, 1)")


def bootstrap_minima(scores: ArrayLike, k: ArrayLike, resamples: int = 5000, replace: bool = True,
                     minimize: bool = True, seed: int = 0) -> NDArray[np.float64]:
    """The best score of each of `resamples` bootstrap budgets, shape (resamples, len(k)).

    Each resample is one sequence of max(k) draws (with replacement: i.i.d.; without: a random
    permutation) and the budget-k best is the best of its first k draws. Every budget's marginal
    distribution is exactly the paper's "draw k runs, take the minimum"; budgets share draws, which
    makes all of them one cumulative minimum (the speed) and the curve smooth in k.
    """
    if not isinstance(resamples, (int, np.integer)) or resamples < 1:
        raise ValueError(f"resamples = {resamples!r}: an integer >= 1")
    values = np.asarray(scores, dtype=np.float64).ravel()
    signed = signed_scores(values, minimize)  # validates; order is irrelevant to resampling
    budgets = _as_budgets(k, signed.size, replace)
    rng = np.random.default_rng(seed)
    longest = int(budgets.max())
    if replace:
        draws = signed[rng.integers(0, signed.size, size=(resamples, longest))]
    else:
        draws = signed[np.argsort(rng.random((resamples, signed.size)), axis=1)[:, :longest]]
    best = np.minimum.accumulate(draws, axis=1)[:, budgets - 1]
    return best if minimize else -best


def bootstrap_curve(scores: ArrayLike, k: ArrayLike | None = None, resamples: int = 5000,
                    replace: bool = True, minimize: bool = True, interval: str = "sd",
                    level: float = 0.95, seed: int = 0) -> BudgetCurve:
    """The paper's budget curve: bootstrap mean and band of the best score for each budget k (default 1..n)."""
    _check_interval(interval, level)
    budgets = np.arange(1, np.size(scores) + 1) if k is None else np.atleast_1d(np.asarray(k))
    best = bootstrap_minima(scores, budgets, resamples, replace, minimize, seed)
    signed = best if minimize else -best
    measured = np.isfinite(signed)
    counts = measured.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(measured, signed, 0.0).sum(axis=0) / counts
        sd = np.sqrt(np.where(measured, (signed - mean) ** 2, 0.0).sum(axis=0) / counts)
    if interval == "sd":
        lower, upper = mean - sd, mean + sd
    else:
        ordered = np.sort(signed, axis=0)  # +inf (all diverged) sorts last, beyond counts
        lower = _column_quantiles(ordered, counts, (1 - level) / 2)
        upper = _column_quantiles(ordered, counts, (1 + level) / 2)
    sign = 1.0 if minimize else -1.0
    lower, upper = (lower, upper) if minimize else (-upper, -lower)
    return BudgetCurve(budgets.astype(np.int64), sign * mean, sd, lower, upper,
                       1.0 - counts / best.shape[0], "bootstrap", interval)


def exact_curve(scores: ArrayLike, k: ArrayLike | None = None, replace: bool = True,
                minimize: bool = True, interval: str = "sd", level: float = 0.95) -> BudgetCurve:
    """The budget curve from the exact distribution of the best of k: no resampling noise."""
    _check_interval(interval, level)
    budgets = np.arange(1, np.size(scores) + 1) if k is None else np.atleast_1d(np.asarray(k))
    distribution = best_of_k(scores, budgets, minimize, replace)
    mean, sd = distribution.moments(given_success=True)
    if interval == "sd":
        lower, upper = mean - sd, mean + sd
    else:
        lower, upper = (_exact_quantile(distribution, q) for q in ((1 - level) / 2, (1 + level) / 2))
        lower, upper = (lower, upper) if minimize else (upper, lower)
    return BudgetCurve(budgets.astype(np.int64), mean, sd, lower, upper,
                       distribution.p_all_diverged, "exact", interval)


def _exact_quantile(distribution: BestOfK, q: float) -> NDArray[np.float64]:
    """The q-quantile (inverse CDF, lower) of the best score given at least one measured trial."""
    finite = np.isfinite(distribution.sorted_scores)
    weights = distribution.probabilities[:, finite]
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    index = np.minimum((cdf < q - 1e-12).sum(axis=1), max(int(finite.sum()) - 1, 0))
    values = distribution.sorted_scores[finite][index] if finite.any() else np.full(len(cdf), np.inf)
    return values if distribution.minimize else -values
