"""Per-trial scores as the budget statistics see them, and the budget curves of every group.

A trial's score is its `best_<metric>` (the per-run best over evaluations, as the paper's code) or
`final_<metric>`. A diverged trial is scored by its study's `diverged_rule` (`objective.diverged`): `keep`
(the paper's code, docs/protocol.md#run-score) counts the evaluations it made before diverging, so its `best` score is its best
finite evaluation and its `final` score the worst value; `worst` (strict, and every table exported before the
rule existed) scores it the worst value (+inf minimised, -inf maximised). Failed, running and waiting trials
were never measured and score NaN (excluded, but listed).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gan_study.analysis.budget import bootstrap_curve, exact_curve, expected_best
from gan_study.models.checks import choice

KNOWN_DIRECTIONS = {"fid": "minimize", "kid": "minimize", "is": "maximize", "inception_score": "maximize",
                    "precision": "maximize", "recall": "maximize", "f1": "maximize", "gan_train": "maximize",
                    "gan_test": "maximize", "gan_train_test_hmean": "maximize", "real_accuracy": "maximize",
                    **dict.fromkeys(("improved_precision", "improved_recall", "density", "coverage", "prd_f8",
                                     "prd_f1_8", "memorisation_score"), "maximize"),
                    **dict.fromkeys(("memorisation_flag", "swd_avg", *(f"swd_{2 ** p}" for p in range(4, 11))),
                                    "minimize")}
KNOWN_RANGES = {"fid": (0.0, np.inf), "is": (1.0, np.inf), "inception_score": (1.0, np.inf), "density": (0.0, np.inf),
                **dict.fromkeys(("precision_median_distance", "recall_median_distance", "swd_avg",
                                 *(f"swd_{2 ** p}" for p in range(4, 11))), (0.0, np.inf)),  # distances
                **{name: (0.0, 1.0) for name in ("precision", "recall", "f1", "gan_train", "gan_test",
                                                 "gan_train_test_hmean", "real_accuracy", "improved_precision",
                                                 "improved_recall", "coverage", "prd_f8", "prd_f1_8",
                                                 "memorisation_flag")}}
"""The values a score can take (an Inception Score is exp(KL) >= 1); KID's unbiased estimate can be negative."""
DIRECTIONS = ("minimize", "maximize")
SCORE_KINDS = ("best", "final")
BUDGET_METHODS = ("bootstrap", "exact")
GROUP = ["dataset", "search", "model"]


def metric_family(name: str) -> str:
    """`fid_domain_classifier` is an FID on another encoder: it is minimised, drawn and labelled as an FID."""
    family = name.split("_", 1)[0]
    return family if family in ("fid", "kid", "is") and name not in KNOWN_DIRECTIONS else name


def objective_metric(trials: pd.DataFrame) -> str | None:
    """The metric the studies optimised (`objective_name` best_fid -> fid), if they agree on one."""
    names = {str(n).removeprefix("best_").removeprefix("final_") for n in trials["objective_name"].dropna()}
    return names.pop() if len(names) == 1 else None


def metric_direction(trials: pd.DataFrame, metric: str, overrides: Mapping[str, str] | None = None) -> str:
    """Which way is better for `metric`: a configured override, the study's own objective, or a known metric."""
    if overrides and metric in overrides:
        direction = overrides[metric]
    else:
        names = trials["objective_name"].astype(str)
        objective = names.isin([metric, f"best_{metric}", f"final_{metric}"])  # the export names it best_fid
        declared = trials.loc[objective, "direction"].dropna().astype(str)
        declared = declared.str.lower().str.split(".").str[-1].unique()  # "StudyDirection.MINIMIZE" too
        if len(declared) > 1:
            raise ValueError(f"metric {metric!r} is minimised in some studies and maximised in others: {list(declared)}")
        direction = declared[0] if len(declared) else KNOWN_DIRECTIONS.get(metric_family(metric))
    if direction not in DIRECTIONS:
        raise ValueError(f"direction of metric {metric!r} is {direction!r}; allowed: {DIRECTIONS} "
                         f"(set directions.{metric} in the report config)")
    return direction


@dataclass(frozen=True)
class ScoreSpec:
    """Which number of a trial is its score: `best_fid`, `final_f1`, ..."""

    metric: str = "fid"
    kind: str = "best"
    direction: str = "minimize"

    @property
    def column(self) -> str:
        return f"{self.kind}_{self.metric}"

    @property
    def minimize(self) -> bool:
        return self.direction == "minimize"

    @property
    def worst(self) -> float:
        return np.inf if self.minimize else -np.inf

    @property
    def bounds(self) -> tuple[float, float]:
        """The score's range; the budget band is cut there (mean - sd of an FID can be negative)."""
        return KNOWN_RANGES.get(metric_family(self.metric), (-np.inf, np.inf))


def score_spec(trials: pd.DataFrame, metric: str, kind: str = "best",
               overrides: Mapping[str, str] | None = None) -> ScoreSpec:
    choice("score", kind, SCORE_KINDS)
    if f"{kind}_{metric}" not in trials.columns:
        available = sorted({c.split("_", 1)[1] for c in trials.columns if c.startswith(f"{kind}_")})
        raise ValueError(f"metric {metric!r}: no column {kind}_{metric} in the trial table; metrics: {available}")
    return ScoreSpec(metric, kind, metric_direction(trials, metric, overrides))


def trial_scores(trials: pd.DataFrame, spec: ScoreSpec) -> pd.Series:
    """The score of every trial: diverged ones by their rule (module docstring), NaN for trials never measured
    or without the metric."""
    values = trials[spec.column].astype(float)
    diverged = trials["status"] == "diverged"
    rule = trials["diverged_rule"] if "diverged_rule" in trials.columns else pd.Series("worst", index=trials.index)
    kept = diverged & (rule == "keep") & (spec.kind == "best") & np.isfinite(values)
    scores = values.where(trials["status"] == "completed").mask(diverged, spec.worst)
    return scores.mask(kept, values)


def budget_trials(trials: pd.DataFrame, spec: ScoreSpec, search: str | None = None) -> pd.DataFrame:
    """Trials that enter the budget statistics (search trials, not seed studies), with their `score`."""
    chosen = trials[~trials["seed_study"]]
    if search is not None:
        chosen = chosen[chosen["search"] == search]
    chosen = chosen.assign(score=trial_scores(chosen, spec))
    return chosen[chosen["score"].notna()]


@dataclass(frozen=True)
class BudgetOptions:
    """How the budget curves are estimated (paper: bootstrap, 5000 resamples, with replacement, ±1 sd)."""

    method: str = "bootstrap"
    resamples: int = 5000
    replace: bool = True
    interval: str = "sd"
    level: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        choice("budget.method", self.method, BUDGET_METHODS)


def budget_frame(trials: pd.DataFrame, spec: ScoreSpec, options: BudgetOptions = BudgetOptions(),
                 search: str | None = None) -> pd.DataFrame:
    """One row per (dataset, search, model, k): the band drawn, the exact expectation beside it, counts."""
    rows = []
    for (dataset, search_name, model), group in budget_trials(trials, spec, search).groupby(GROUP, sort=False):
        scores = group["score"].to_numpy()
        if options.method == "bootstrap":
            curve = bootstrap_curve(scores, None, options.resamples, options.replace, spec.minimize,
                                    options.interval, options.level, options.seed)
        else:
            curve = exact_curve(scores, None, options.replace, spec.minimize, options.interval, options.level)
        exact = expected_best(scores, curve.k, spec.minimize, options.replace, given_success=True)
        rows.append(pd.DataFrame({
            "dataset": dataset, "search": search_name, "model": model, "metric": spec.column, "k": curve.k,
            "mean": curve.mean, "sd": curve.sd, "lower": np.clip(curve.lower, *spec.bounds),
            "upper": np.clip(curve.upper, *spec.bounds),
            "p_all_diverged": curve.p_all_diverged, "exact_mean": exact, "method": curve.method,
            "interval": curve.interval, "n_trials": len(scores), "n_diverged": int((group["status"] == "diverged").sum())}))
    columns = ["dataset", "search", "model", "metric", "k", "mean", "sd", "lower", "upper", "p_all_diverged",
               "exact_mean", "method", "interval", "n_trials", "n_diverged"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
