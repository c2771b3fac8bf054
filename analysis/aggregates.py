"""Across data sets: normalised scores, interquartile mean and performance profiles, with stratified bootstrap intervals.

FIDs of different data sets are not on one scale, so a study spanning several is summarised as Agarwal et al.
(2021, rliable) define it: each trial's score normalised per data set, the interquartile mean (IQM: the mean of
the middle 50 % of all trials' normalised scores, robust to outliers yet using half the runs), and the
performance profile (the fraction of trials above each normalised score τ); intervals come from a bootstrap
stratified by data set (each data set's trials resampled within it, so every resample keeps every data set).

Normalisation (a choice of ours: rliable takes reference scores from its user): per data set, over every trial
of every loss with a finite score, 1 is the best score seen and 0 the worst; a diverged trial without a finite
score is 0.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import trim_mean

from gan_study.analysis.scores import ScoreSpec, budget_trials
from gan_study.analysis.verdicts import percentile_interval
from gan_study.models.checks import check, integer

IQM_CUT = 0.25


def normalised_scores(trials: pd.DataFrame, spec: ScoreSpec, search: str | None) -> pd.DataFrame:
    """The search's trials with `normalised`: per data set, (worst − score) / (worst − best) minimised, 0 if diverged."""
    chosen = budget_trials(trials, spec, search)
    finite = chosen[np.isfinite(chosen["score"])]
    best = finite.groupby("dataset")["score"].transform("min" if spec.minimize else "max")
    worst = finite.groupby("dataset")["score"].transform("max" if spec.minimize else "min")
    span = (worst - best).where(worst != best, 1.0)
    normalised = ((worst - finite["score"]) / span).abs()
    return chosen.assign(normalised=normalised.reindex(chosen.index).fillna(0.0))


def iqm(scores: ArrayLike, axis: int | None = None) -> float | NDArray[np.float64]:
    """The interquartile mean: the 25 % trimmed mean (scipy's trim_mean, rliable's definition)."""
    return trim_mean(np.asarray(scores, dtype=np.float64), IQM_CUT, axis=axis)


def run_score_profile(strata: Sequence[ArrayLike], taus: ArrayLike) -> NDArray[np.float64]:
    """P(score > τ) for each τ: the fraction of each data set's runs above τ, averaged over data sets."""
    taus = np.asarray(taus, dtype=np.float64)
    return np.mean([(np.asarray(s, dtype=np.float64)[:, None] > taus[None, :]).mean(axis=0) for s in strata], axis=0)


def _stratified_resamples(strata: Sequence[NDArray[np.float64]], resamples: int,
                          rng: np.random.Generator) -> list[NDArray[np.float64]]:
    """Each stratum resampled with replacement within itself: (R, n_d) per data set."""
    return [s[rng.integers(0, s.size, size=(resamples, s.size))] for s in strata]


def stratified_intervals(strata: Sequence[ArrayLike], taus: ArrayLike, resamples: int = 2000, level: float = 0.95,
                         seed: int = 0) -> dict[str, NDArray[np.float64]]:
    """IQM of all runs and the profile at `taus`, each with its stratified bootstrap percentile interval."""
    integer("resamples", resamples, 2)
    values = [np.asarray(s, dtype=np.float64).ravel() for s in strata]
    check(len(values) >= 1 and all(v.size for v in values), "strata", [v.size for v in values],
          "at least one data set, each with a trial")
    rng = np.random.default_rng(seed)
    drawn = _stratified_resamples(values, resamples, rng)
    iqm_replicates = iqm(np.concatenate(drawn, axis=1), axis=1)
    taus = np.asarray(taus, dtype=np.float64)
    profile_replicates = np.mean([(d[:, :, None] > taus).mean(axis=1) for d in drawn], axis=0)
    iqm_lower, iqm_upper = percentile_interval(iqm_replicates[:, None], level)
    profile_lower, profile_upper = percentile_interval(profile_replicates, level)
    return {"iqm": np.atleast_1d(iqm(np.concatenate(values))), "iqm_lower": iqm_lower, "iqm_upper": iqm_upper,
            "profile": run_score_profile(values, taus), "profile_lower": profile_lower,
            "profile_upper": profile_upper}


def aggregate_frames(trials: pd.DataFrame, spec: ScoreSpec, search: str | None, resamples: int = 2000,
                     level: float = 0.95, seed: int = 0, taus: ArrayLike = np.linspace(0, 1, 21)
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per loss over the data sets it ran on (two or more): its IQM row, and its profile (one row per τ)."""
    normalised = normalised_scores(trials, spec, search)
    summary, profiles = [], []
    for model, group in normalised.groupby("model", sort=False):
        datasets = list(dict.fromkeys(group["dataset"]))
        if len(datasets) < 2:
            continue
        strata = [group.loc[group["dataset"] == d, "normalised"].to_numpy() for d in datasets]
        result = stratified_intervals(strata, taus, resamples, level, seed)
        summary.append({"model": model, "datasets": len(datasets), "trials": len(group),
                        "iqm": result["iqm"][0], "lower": result["iqm_lower"][0], "upper": result["iqm_upper"][0],
                        "median": float(np.median(group["normalised"]))})
        profiles.append(pd.DataFrame({"model": model, "tau": taus, "fraction": result["profile"],
                                      "lower": result["profile_lower"], "upper": result["profile_upper"]}))
    return (pd.DataFrame(summary, columns=["model", "datasets", "trials", "iqm", "lower", "upper", "median"]),
            pd.concat(profiles, ignore_index=True) if profiles else pd.DataFrame(
                columns=["model", "tau", "fraction", "lower", "upper"]))
