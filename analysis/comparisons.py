"""A study's verdicts: every pair of losses per data set and search, at budgets in trials or device-hours.

The arithmetic is `gan_study.analysis.verdicts`; this module picks each loss's trials and scores (as the
budget curves do: search trials, diverged ones by their rule), turns a budget into each loss's k (an hours
budget buys each loss the trials its mean cost allows, per kind of machine), runs every pair of a family at
once and applies Holm over the family: all pairs of one data set, search, machine and budget.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gan_study.analysis.compute_budget import default_hours, priced_trials, trials_within
from gan_study.analysis.scores import ScoreSpec, budget_trials
from gan_study.analysis.style import model_label, ordered_models
from gan_study.analysis.verdicts import (DECISIONS, bootstrap_p_value, decide, holm, pairwise_sample,
                                         percentile_interval, smallest_exact_p, trials_needed)
from gan_study.models.checks import choice

log = logging.getLogger("gan_study.report")

UNITS = ("trials", "hours")
ANY_MACHINE = "any"
"""The machine of a budget in trials: a trial is a trial wherever it ran (the scores are pooled, as the curves)."""
COLUMNS = ["dataset", "search", "machine", "unit", "budget", "headline", "model_a", "model_b", "k_a", "k_b", "n_a",
           "n_b", "p_better", "lower", "upper", "se", "p_value", "p_holm", "decision", "trials_needed"]


@dataclass(frozen=True)
class VerdictOptions:
    """Which budgets the verdicts are given at, and how sure a decision must be."""

    budget: str = "trials"
    """`trials`: k trials of each loss; `hours`: the trials each loss's mean cost allows in that many device-hours."""
    at: float | None = None
    """The headline budget (table, summary); None: a quarter of the group's fewest trials (at least 1), where the
    interval's coverage was checked, or in hours what every loss of the group actually spent."""
    budgets: tuple[float, ...] | None = None
    """The figure's and compare view's budgets; None: 1..the fewest trials, or 12 log-spaced hours."""
    alpha: float = 0.05
    level: float = 0.95
    resamples: int = 2000
    """Bootstrap resamples; the smallest p-value is 2 / resamples, so Holm over m pairs needs 2 m / resamples < alpha."""
    seed: int = 0
    reference: str = "ns_gan"
    """The loss every other is compared with in the terminal summary (the paper's baseline)."""

    def __post_init__(self) -> None:
        choice("verdicts.budget", self.budget, UNITS)


def _budget_grid(options: VerdictOptions, n: pd.Series, costs: pd.Series, totals: pd.Series
                 ) -> tuple[np.ndarray, float]:
    """The budgets of one group (the headline included) and the headline."""
    if options.budget == "trials":
        headline = float(options.at if options.at is not None else max(1, n.min() // 4))
        grid = np.asarray(options.budgets if options.budgets is not None else np.arange(1, n.min() + 1), dtype=float)
    else:
        headline = float(options.at if options.at is not None else totals.min())
        grid = (np.asarray(options.budgets, dtype=float) if options.budgets is not None
                else default_hours(costs, totals, 12))
    return np.unique(np.append(grid, headline)), headline


def _group_verdicts(group: pd.DataFrame, spec: ScoreSpec, options: VerdictOptions, replace: bool) -> pd.DataFrame:
    models = ordered_models(group["model"])
    if len(models) < 2:
        return pd.DataFrame(columns=COLUMNS)
    by_model = {m: group[group["model"] == m] for m in models}
    n = pd.Series({m: len(rows) for m, rows in by_model.items()})
    costs = pd.Series({m: rows["hours"].mean() for m, rows in by_model.items()})
    totals = pd.Series({m: rows["hours"].sum() for m, rows in by_model.items()})
    grid, headline = _budget_grid(options, n, costs, totals)
    if grid.size == 0:
        return pd.DataFrame(columns=COLUMNS)
    if options.budget == "trials":
        ks = {m: grid.astype(np.int64) for m in models}
    else:
        ks = {m: trials_within(grid, costs[m]) for m in models}
    if not replace:
        ks = {m: np.minimum(k, n[m]) for m, k in ks.items()}
    sample = pairwise_sample([by_model[m]["score"].to_numpy() for m in models], [ks[m] for m in models],
                             options.resamples, spec.minimize, replace, options.seed)
    first, second = (np.array([models[p[side]] for p in sample.pairs], dtype=object) for side in (0, 1))
    n_a, n_b = n[first].to_numpy()[:, None], n[second].to_numpy()[:, None]
    lower, upper = percentile_interval(sample.bootstrap, options.level)
    p_value = np.maximum(bootstrap_p_value(sample.bootstrap), smallest_exact_p(n_a, n_b))
    adjusted = np.apply_along_axis(holm, 0, p_value)  # one family per budget: every pair
    se = sample.bootstrap.std(axis=1, ddof=1) if options.resamples > 1 else np.full_like(lower, np.nan)
    decision = decide(sample.exact, adjusted, options.alpha)
    needed = trials_needed(sample.exact, se, n_a, n_b, options.alpha, len(sample.pairs))
    shape = sample.exact.shape  # (pairs, budgets): one row each, pair-major
    return pd.DataFrame({
        "budget": np.tile(grid, shape[0]), "headline": np.tile(np.isclose(grid, headline), shape[0]),
        "model_a": np.repeat(first, shape[1]), "model_b": np.repeat(second, shape[1]),
        "k_a": np.concatenate([ks[m] for m in first]), "k_b": np.concatenate([ks[m] for m in second]),
        "n_a": np.repeat(n_a, shape[1]), "n_b": np.repeat(n_b, shape[1]), "p_better": sample.exact.ravel(),
        "lower": lower.ravel(), "upper": upper.ravel(), "se": se.ravel(), "p_value": p_value.ravel(),
        "p_holm": adjusted.ravel(), "decision": decision.ravel(),
        "trials_needed": np.where(decision == DECISIONS[2], needed, np.nan).ravel()})


def verdict_frame(trials: pd.DataFrame, spec: ScoreSpec, options: VerdictOptions = VerdictOptions(),
                  replace: bool = True, search: str | None = None, runs_root: Path | None = None) -> pd.DataFrame:
    """One row per (data set, search, machine, budget, pair of losses); columns `COLUMNS`."""
    if options.budget == "hours":
        chosen = priced_trials(trials, spec, search, runs_root)
        left_out = len(budget_trials(trials, spec, search)) - len(chosen)
        if left_out:
            log.warning("verdicts in hours: %d trial(s) without a recorded wall time left out", left_out)
    else:
        chosen = budget_trials(trials, spec, search).assign(machine=ANY_MACHINE, hours=np.nan)
    frames = []
    for (dataset, search_name, machine), group in chosen.groupby(["dataset", "search", "machine"], sort=False):
        frame = _group_verdicts(group, spec, options, replace)
        if not frame.empty:
            frames.append(frame.assign(dataset=dataset, search=search_name, machine=machine, unit=options.budget))
    return pd.concat(frames, ignore_index=True)[COLUMNS] if frames else pd.DataFrame(columns=COLUMNS)


def against(frame: pd.DataFrame, reference: str) -> pd.DataFrame:
    """The verdicts of every loss against `reference`, oriented so that P(better) is the other loss's."""
    return oriented(frame[(frame["model_a"] == reference) | (frame["model_b"] == reference)], reference)


def oriented(frame: pd.DataFrame, second: str) -> pd.DataFrame:
    """The same verdicts with `second` as model B wherever it takes part (P(better) is then the other loss's)."""
    swap = frame["model_a"] == second
    out = frame.copy()
    for left, right in (("model_a", "model_b"), ("k_a", "k_b"), ("n_a", "n_b")):
        out.loc[swap, [left, right]] = frame.loc[swap, [right, left]].to_numpy()
    out.loc[swap, "p_better"] = 1 - frame.loc[swap, "p_better"]
    out.loc[swap, "lower"] = 1 - frame.loc[swap, "upper"]
    out.loc[swap, "upper"] = 1 - frame.loc[swap, "lower"]
    flipped = {DECISIONS[0]: DECISIONS[1], DECISIONS[1]: DECISIONS[0], DECISIONS[2]: DECISIONS[2]}
    out.loc[swap, "decision"] = frame.loc[swap, "decision"].map(flipped)
    return out


def trials_phrase(count: float) -> str:
    return "1 trial" if count == 1 else f"{int(count)} trials"


def describe_budget(row: pd.Series) -> str:
    if row["unit"] == "trials":
        return f"budget {trials_phrase(row['budget'])}"
    return f"budget {row['budget']:.3g} device-hours on {row['machine']} (k = {int(row['k_a'])} vs {int(row['k_b'])})"


def verdict_line(row: pd.Series) -> str:
    """`budget 20 trials, WGAN GP vs NS GAN: P(better) 0.61 [0.48, 0.72], no evidence; 60 trials each would decide`."""
    a, b = model_label(row["model_a"]), model_label(row["model_b"])
    line = (f"{describe_budget(row)}, {a} vs {b}: P(better) {row['p_better']:.2f} "
            f"[{row['lower']:.2f}, {row['upper']:.2f}], ")
    if row["decision"] != DECISIONS[2]:
        return line + f"{a if row['decision'] == DECISIONS[0] else b} better (Holm p = {row['p_holm']:.2g})"
    needed = row["trials_needed"]
    return line + ("no evidence; no number of trials would decide (equal estimates)" if not np.isfinite(needed)
                   else f"no evidence; {int(needed)} trials each would decide")
