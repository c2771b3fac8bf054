"""Where a loss's score variance comes from: the seeds versus the hyperparameters, with bootstrap intervals.

A wide search varies hyperparameters and seeds together; the seed study re-runs one configuration with many
seeds, so its variance is the seeds' alone (Bouthillier et al. 2021 separate the sources the same way). With
score = f(hyperparameters) + seed noise, Var(wide) = Var_hp + Var_seed, so the seeds' share of the wide search's
variance is Var(seeds) / Var(wide) and the hyperparameters' is the rest. The noise is measured at one (the best)
configuration and assumed the same elsewhere: the share is an estimate of that model, not a law.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gan_study.analysis.scores import ScoreSpec, budget_trials, trial_scores
from gan_study.analysis.verdicts import percentile_interval, resample_counts
from gan_study.models.checks import check, integer

COLUMNS = ["dataset", "search", "model", "n_seeds", "n_search", "seed_variance", "search_variance", "seed_share",
           "lower", "upper", "hyperparameter_share"]


def _variances(values: NDArray[np.float64], counts: NDArray[np.float64]) -> NDArray[np.float64]:
    """The unbiased variance of each resample (row of counts) of `values`."""
    n = values.size
    mean = counts @ values / n
    return (counts @ values**2 / n - mean**2) * n / (n - 1)


def seed_share(seeds: ArrayLike, search: ArrayLike, resamples: int = 2000, level: float = 0.95,
               seed: int = 0) -> dict[str, float]:
    """Var(seeds) / Var(search) (capped at 1) with a percentile interval, the two sets resampled apart."""
    seeds, search = (np.asarray(v, dtype=np.float64).ravel() for v in (seeds, search))
    for name, values in (("seeds", seeds), ("search", search)):
        check(values.size >= 2 and bool(np.isfinite(values).all()), name, f"{values.size} scores",
              "at least two finite scores")
    integer("resamples", resamples, 2)
    rng = np.random.default_rng(seed)
    seed_var, search_var = np.var(seeds, ddof=1), np.var(search, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = np.minimum(1.0, _variances(seeds, resample_counts(seeds.size, resamples, rng))
                                / _variances(search, resample_counts(search.size, resamples, rng)))
    lower, upper = percentile_interval(np.nan_to_num(replicates, nan=1.0)[:, None], level)
    share = min(1.0, seed_var / search_var) if search_var > 0 else 1.0
    return {"seed_variance": seed_var, "search_variance": search_var, "seed_share": share,
            "lower": float(lower[0]), "upper": float(upper[0]), "hyperparameter_share": 1.0 - share}


def variance_frame(trials: pd.DataFrame, spec: ScoreSpec, search: str | None, resamples: int = 2000,
                   level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Per data set and model with both a seed study and `search` trials: the seeds' share of the score variance."""
    seeds = trials[trials["seed_study"]].assign(score=lambda t: trial_scores(t, spec))
    searched = budget_trials(trials, spec, search)
    rows = []
    for (dataset, model), group in seeds.groupby(["dataset", "model"], sort=False):
        seed_scores = group["score"][np.isfinite(group["score"])].to_numpy()
        wide = searched[(searched["dataset"] == dataset) & (searched["model"] == model)]
        wide_scores = wide["score"][np.isfinite(wide["score"])].to_numpy()
        if seed_scores.size < 2 or wide_scores.size < 2:
            continue
        rows.append({"dataset": dataset, "search": search, "model": model, "n_seeds": seed_scores.size,
                     "n_search": wide_scores.size, **seed_share(seed_scores, wide_scores, resamples, level, seed)})
    return pd.DataFrame(rows, columns=COLUMNS)
