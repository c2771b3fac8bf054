"""The report's tables of docs/statistics.md: pairwise verdicts, the seeds' share of the variance, cross-data-set IQM."""
from __future__ import annotations

import numpy as np
import pandas as pd

from gan_study.analysis.comparisons import trials_phrase
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import metric_label, model_label
from gan_study.analysis.tables import Table, format_number, labelled, sort_groups
from gan_study.analysis.variance import variance_frame


def _interval(lower: float, upper: float) -> str:
    return f"[{lower:.2f}, {upper:.2f}]"


def verdict_table(inputs: ReportInputs) -> Table | None:
    """All pairs of every data set and search at the headline budget; None when no group has two losses."""
    spec = inputs.spec()
    frame = inputs.verdicts(spec)
    if frame.empty:
        return None
    options = inputs.options.verdicts
    frame = sort_groups(frame[frame["headline"]].drop(columns="headline"), ["dataset", "search"])
    shown = labelled(frame).assign(model_a=frame["model_a"].map(model_label), model_b=frame["model_b"].map(model_label))
    display = pd.DataFrame({
        "dataset": shown["dataset"], "search": shown["search"],
        "budget": [trials_phrase(b) if u == "trials" else f"{b:.3g} h ({int(ka)} vs {int(kb)} trials)"
                   for b, u, ka, kb in zip(frame["budget"], frame["unit"], frame["k_a"], frame["k_b"])],
        "A": shown["model_a"], "B": shown["model_b"], "P(A better)": frame["p_better"].map(lambda v: f"{v:.2f}"),
        f"{options.level:.0%} interval": [_interval(lo, up) for lo, up in zip(frame["lower"], frame["upper"])],
        "Holm p": frame["p_holm"].map(format_number), "decision": frame["decision"],
        "trials needed": [("–" if np.isnan(v) else "∞" if np.isinf(v) else str(int(v))) for v in frame["trials_needed"]]})
    if options.budget == "hours":
        display.insert(2, "machine", frame["machine"])
    unit = ("k trials of each loss" if options.budget == "trials" else
            "the trials each loss's mean measured cost (diverged trials included) buys in that many device-hours, "
            "per kind of machine")
    note = (f"P(A better): exact probability that the best {metric_label(spec.metric)} ({spec.column}) among {unit} "
            f"of A beats B's (ties count 1/2), from the study's trials by order statistics; interval: bootstrap "
            f"percentile over the trials ({options.resamples} resamples, each loss resampled apart); decision: Holm "
            f"over every pair of a data set and search at alpha = {options.alpha:g}; trials needed: trials of each "
            "loss at which the interval would exclude 1/2 if the estimate held (docs/statistics.md).")
    return Table("verdicts", "Pairwise verdicts at a budget", frame, display, note)


def variance_table(inputs: ReportInputs) -> Table | None:
    """Per data set and loss with a seed study and a search: how much of the search's variance the seeds explain."""
    spec = inputs.spec()
    options = inputs.options.verdicts
    frame = variance_frame(inputs.tables.trials, spec, inputs.main_search(inputs.tables.trials), options.resamples,
                           options.level, options.seed)
    if frame.empty:
        return None
    frame = sort_groups(frame, ["dataset", "model"])
    display = labelled(frame).assign(
        seed_share=[f"{s:.2f} {_interval(lo, up)}" for s, lo, up in zip(frame["seed_share"], frame["lower"],
                                                                         frame["upper"])],
        hyperparameter_share=frame["hyperparameter_share"].map(lambda v: f"{v:.2f}"),
        seed_variance=frame["seed_variance"].map(format_number), search_variance=frame["search_variance"].map(format_number)
    ).drop(columns=["lower", "upper"])
    note = (f"Variance of {metric_label(spec.metric)} ({spec.column}) over the seed study's seeds (one configuration) and "
            "over the search's trials (hyperparameters and seeds); seeds' share = Var(seeds) / Var(search), capped at 1, "
            f"with a {options.level:.0%} bootstrap percentile interval (the two sets resampled apart, "
            f"{options.resamples} resamples); hyperparameters' share = the rest. Finite scores only (docs/statistics.md).")
    return Table("variance_shares", "Where the variance comes from: seeds vs hyperparameters", frame, display, note)


def aggregate_table(inputs: ReportInputs) -> Table | None:
    """Per loss across the data sets it ran on: IQM of normalised scores with its stratified bootstrap interval."""
    spec = inputs.spec()
    frame = inputs.aggregates(spec)[0]
    if frame.empty:
        return None
    frame = sort_groups(frame, ["model"])
    level = inputs.options.verdicts.level
    display = labelled(frame).assign(
        iqm=[f"{v:.3f} {_interval(lo, up)}" for v, lo, up in zip(frame["iqm"], frame["lower"], frame["upper"])],
        median=frame["median"].map(lambda v: f"{v:.3f}")).drop(columns=["lower", "upper"])
    note = (f"{metric_label(spec.metric)} ({spec.column}) normalised per data set over every loss's trials (1 = the best "
            "score seen, 0 = the worst or diverged); IQM = mean of the middle 50 % of a loss's trials over all its data "
            f"sets, with a {level:.0%} bootstrap interval stratified by data set (Agarwal et al. 2021; docs/statistics.md).")
    return Table("aggregates", "Across data sets: interquartile mean of normalised scores", frame, display, note)


def statistics_tables(inputs: ReportInputs) -> list[Table]:
    """The tables the data allow, in page order."""
    return [t for t in (verdict_table(inputs), variance_table(inputs), aggregate_table(inputs)) if t is not None]
