"""Pairwise verdicts at a budget: P(best of k of A beats best of k of B), its interval, Holm, trials needed.

The budget curves say how good the best of k trials is on average; a user asks which loss to pick. The
verdict answers it at a stated budget: the probability that the best of k_A draws from A's trials beats the
best of k_B draws from B's (ties count one half), exactly from the two empirical distributions by order
statistics, with a bootstrap interval over the trials the study has, and a decision whose error rate is
controlled over every pair of a family by Holm's procedure. docs/statistics.md gives the formulas.

One computation serves the exact value and the bootstrap: a study's trials of one loss, sorted once, are
weighted by how many times each was drawn (1 each: the exact value; a multinomial draw: one resample), and
the chance that the best of k draws is at or above sorted position j is a table lookup S[k, c] on the
count c of drawn trials at or above j: (c / n)^k with replacement, C(c, k) / C(n, k) without.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln
from scipy.stats import norm

from gan_study.analysis.budget import signed_scores
from gan_study.models.checks import check, integer, number

DECISIONS = ("A better", "B better", "no evidence")
BOOTSTRAP_DTYPE = np.float32
"""The resamples' lookups: half the memory traffic of float64; an interval needs no more than 7 digits."""
CHUNK = 50


def _at_or_above(n: int, budgets: NDArray[np.int64], replace: bool) -> NDArray[np.float64]:
    """S[j, c] = P(all k_j draws fall among c given trials of n), c = 0..n."""
    counts = np.arange(n + 1, dtype=np.float64)
    k = budgets[:, None].astype(np.float64)
    if replace:
        return (counts / n)[None, :] ** k
    with np.errstate(invalid="ignore"):
        log_ratio = gammaln(counts + 1) - gammaln(counts - k + 1) - gammaln(n + 1) + gammaln(n - k + 1)
    return np.where(counts[None, :] >= k, np.exp(log_ratio), 0.0)


def _budgets(k: ArrayLike, n: int, replace: bool, field: str) -> NDArray[np.int64]:
    budgets = np.atleast_1d(np.asarray(k))
    check(budgets.size > 0 and np.issubdtype(budgets.dtype, np.integer) and bool((budgets >= 1).all()),
          field, k, "integers >= 1")
    check(replace or bool((budgets <= n).all()), field, k, f"at most the {n} trials (draws without replacement)")
    return budgets.astype(np.int64)


@dataclass(frozen=True)
class _Loss:
    """One loss's trials sorted best-first (as a minimisation), its resample counts and its tables."""

    sorted_scores: NDArray[np.float64]
    at_or_above: NDArray[np.float64]   # (R, n + 1): drawn trials at or above each sorted position
    table: NDArray[np.float64]         # (n + 1, K): S[c, k], a row per count so that lookups copy whole rows

    def survival(self) -> NDArray[np.float64]:
        """(R, n + 1, K): P(the best of k draws is at sorted position j or above), for each resample."""
        return self.table[self.at_or_above]

    def p_not_below(self, survival: NDArray[np.float64], scores: NDArray[np.float64]) -> NDArray[np.float64]:
        """(R, m, K): P(best of k draws > x) + P(= x) / 2 for each x in `scores` (sorted), each resample."""
        below = np.searchsorted(self.sorted_scores, scores, side="left")
        above = np.searchsorted(self.sorted_scores, scores, side="right")
        at_least = survival[:, below]
        tied = below != above  # only where the other loss has this very score (diverged trials: +inf)
        if tied.any():
            at_least[:, tied] = 0.5 * (at_least[:, tied] + survival[:, above[tied]])
        return at_least

    def resamples(self, chosen: slice) -> _Loss:
        return _Loss(self.sorted_scores, self.at_or_above[chosen], self.table)


def _loss(scores: ArrayLike, budgets: NDArray[np.int64], counts: NDArray[np.float64], replace: bool,
          minimize: bool, dtype: type = np.float64) -> _Loss:
    signed = signed_scores(scores, minimize)
    at_or_above = np.concatenate([np.cumsum(counts[:, ::-1], axis=1)[:, ::-1],
                                  np.zeros((counts.shape[0], 1))], axis=1).astype(np.int64)
    return _Loss(signed, at_or_above, np.ascontiguousarray(_at_or_above(signed.size, budgets, replace).T, dtype=dtype))


def _p_better(a: _Loss, b: _Loss, a_survival: NDArray[np.float64], b_mass: NDArray[np.float64]) -> NDArray[np.float64]:
    """(R, K): P(best of A < best of B) + P(equal) / 2 = 1 - sum_j P(B's best = b_j) (P(A's best > b_j) + P(= b_j) / 2)."""
    return 1.0 - np.einsum("rjk,rjk->rk", b_mass, a.p_not_below(a_survival, b.sorted_scores))


def p_better(a: ArrayLike, b: ArrayLike, k: ArrayLike, k_b: ArrayLike | None = None, minimize: bool = True,
             replace: bool = True) -> float | NDArray[np.float64]:
    """Exact P(the best of k draws from A's scores beats the best of k_b (default k) from B's); ties count 1/2.

    A diverged trial is +inf minimised (-inf maximised): it beats nothing and ties with another diverged trial.
    """
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    budgets_a = _budgets(k, a.size, replace, "k")
    budgets_b = _budgets(k if k_b is None else k_b, b.size, replace, "k_b")
    check(budgets_a.size == budgets_b.size, "k_b", k_b, f"as many budgets as k ({budgets_a.size})")
    loss_a = _loss(a, budgets_a, np.ones((1, a.size)), replace, minimize)
    loss_b = _loss(b, budgets_b, np.ones((1, b.size)), replace, minimize)
    p = _all_pairs([loss_a, loss_b], [(0, 1)])[0, 0]
    return float(p[0]) if np.ndim(k) == 0 else p


def resample_counts(n: int, resamples: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """(R, n): how many times each trial is drawn in each bootstrap resample of n trials with replacement."""
    draws = rng.integers(0, n, size=(resamples, n)) + n * np.arange(resamples)[:, None]
    return np.bincount(draws.ravel(), minlength=resamples * n).reshape(resamples, n).astype(np.float64)


@dataclass(frozen=True)
class PairwiseSample:
    """Every pair (i < j) of the losses given: exact P(i beats j) per budget, and its bootstrap replicates."""

    pairs: list[tuple[int, int]]
    exact: NDArray[np.float64]        # (pairs, K)
    bootstrap: NDArray[np.float64]    # (pairs, R, K)


def pairwise_sample(scores: Sequence[ArrayLike], budgets: Sequence[ArrayLike], resamples: int = 1000,
                    minimize: bool = True, replace: bool = True, seed: int = 0) -> PairwiseSample:
    """All pairs at once; `budgets[i]` is loss i's k at each of the K budgets (trials, or what an hour buys).

    Each loss's trials are resampled with replacement independently (a stratified bootstrap: the strata are
    the losses), once, and every pair shares the resamples.
    """
    integer("resamples", resamples, 1)
    check(len(scores) == len(budgets) and len(scores) >= 2, "scores", f"{len(scores)} losses",
          f"at least two losses, each with its budgets ({len(budgets)} given)")
    rng = np.random.default_rng(seed)
    values = [np.asarray(s, dtype=np.float64).ravel() for s in scores]
    ks = [_budgets(k, v.size, replace, f"budgets[{i}]") for i, (k, v) in enumerate(zip(budgets, values))]
    check(len({k.size for k in ks}) == 1, "budgets", [k.size for k in ks], "the same number of budgets per loss")
    pairs = list(combinations(range(len(values)), 2))
    exact = _all_pairs([_loss(v, k, np.ones((1, v.size)), replace, minimize) for v, k in zip(values, ks)], pairs)
    boot_losses = [_loss(v, k, resample_counts(v.size, resamples, rng), replace, minimize, BOOTSTRAP_DTYPE)
                   for v, k in zip(values, ks)]
    bootstrap = np.concatenate([_all_pairs([loss.resamples(chunk) for loss in boot_losses], pairs)
                                for chunk in _chunks(resamples)], axis=1)
    return PairwiseSample(pairs, exact[:, 0], bootstrap)


def _chunks(resamples: int) -> list[slice]:
    """Resamples in blocks of CHUNK, so that each block's lookups stay in the CPU cache."""
    return [slice(start, start + CHUNK) for start in range(0, resamples, CHUNK)]


def _all_pairs(losses: list[_Loss], pairs: list[tuple[int, int]]) -> NDArray[np.float64]:
    """(pairs, R, K): P(i beats j) for every pair, each loss's best-of-k distribution computed once."""
    survival = [loss.survival() for loss in losses]
    mass = [s[:, :-1] - s[:, 1:] for s in survival]  # P(the best of k draws is sorted position j)
    return np.stack([_p_better(losses[i], losses[j], survival[i], mass[j]) for i, j in pairs]).astype(np.float64)


def percentile_interval(replicates: NDArray[np.float64], level: float) -> tuple[NDArray, NDArray]:
    """The bootstrap percentile interval over axis -2 (the resamples)."""
    number("level", level, lambda v: 0 < v < 1, "the interval's coverage, a number in (0, 1)")
    lower, upper = np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2], axis=-2)
    return lower, upper


def bootstrap_p_value(replicates: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-sided p-value of H0: P(better) = 1/2, by inverting the percentile interval: 2 min(P*(<= 1/2), P*(>= 1/2))."""
    below = (replicates <= 0.5).mean(axis=-2)
    above = (replicates >= 0.5).mean(axis=-2)
    return np.minimum(1.0, 2 * np.minimum(below, above))


def smallest_exact_p(n_a: ArrayLike, n_b: ArrayLike) -> NDArray[np.float64]:
    """2 / C(n_A + n_B, n_A): the smallest two-sided p-value an exact permutation test of these sample sizes gives.

    The bootstrap p-value is floored there: resamples of 3 trials against 3 that never overlap read p = 0, yet
    no test can tell two losses apart from 3 trials each below p = 0.1.
    """
    n_a, n_b = np.asarray(n_a, dtype=np.float64), np.asarray(n_b, dtype=np.float64)
    return np.minimum(1.0, 2.0 * np.exp(gammaln(n_a + 1) + gammaln(n_b + 1) - gammaln(n_a + n_b + 1)))


def holm(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values: rejecting where adjusted < alpha controls the family-wise error at alpha."""
    p = np.asarray(p_values, dtype=np.float64).ravel()
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted


def decide(estimate: ArrayLike, adjusted: ArrayLike, alpha: float) -> NDArray[np.str_]:
    """"A better" / "B better" where the Holm-adjusted p-value is below alpha, else "no evidence"."""
    estimate, adjusted = np.asarray(estimate), np.asarray(adjusted)
    return np.where(adjusted < alpha, np.where(estimate > 0.5, DECISIONS[0], DECISIONS[1]), DECISIONS[2])


def trials_needed(estimate: ArrayLike, standard_error: ArrayLike, n_a: ArrayLike, n_b: ArrayLike, alpha: float,
                  family: int) -> NDArray[np.float64]:
    """Trials of each loss at which the interval would exclude 1/2 if the estimate held: N = n_h (z se / |p - 1/2|)^2.

    The bootstrap variance of a two-sample statistic falls as 1/n_A + 1/n_B; at N trials each it is
    se^2 n_h / N with n_h = 2 / (1/n_A + 1/n_B). z is at Holm's strictest level alpha / family (Bonferroni),
    so N suffices whatever the other pairs show. At least one trial more than the larger loss has (fewer
    would have decided already: a skewed bootstrap defeats the normal projection), and enough that
    `smallest_exact_p(N, N)` is below that level; inf where the estimate is 1/2.
    """
    gap = np.abs(np.asarray(estimate, dtype=np.float64) - 0.5)
    harmonic = 2.0 / (1.0 / np.asarray(n_a, dtype=np.float64) + 1.0 / np.asarray(n_b, dtype=np.float64))
    z = norm.ppf(1 - alpha / (2 * family))
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.ceil(harmonic * (z * np.asarray(standard_error) / gap) ** 2)
    sizes = np.arange(1, 100)
    fewest = sizes[smallest_exact_p(sizes, sizes) < alpha / family][0]
    return np.where(gap > 0, np.maximum(np.maximum(needed, np.maximum(n_a, n_b) + 1), fewest), np.inf)
