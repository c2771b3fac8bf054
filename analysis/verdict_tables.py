"""The report's verdict table: every pair of losses at the headline budget, with its interval and decision."""
from __future__ import annotations

import numpy as np
import pandas as pd

from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import metric_label, model_label
from gan_study.analysis.tables import Table, format_number, labelled, sort_groups


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
        "budget": [f"{int(b)} trials" if u == "trials" else f"{b:.3g} h ({int(ka)} vs {int(kb)} trials)"
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
