"""The paper's main figure: the best score among k trials against the budget k, per data set."""
from __future__ import annotations

import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import ScoreSpec
from gan_study.analysis.style import (dataset_label, dataset_panels, legend_outside, metric_label, model_color,
                            model_handles, model_label, ordered_models, set_score_axis)

UNRELIABLE = 0.05
"""Above this chance that all k trials diverged, the curve is dotted: the budget often yields nothing."""

CAPTION = ("Best {metric} among k trained hyperparameter settings, for each budget k ({budget}). Diverged trials "
           "lose every comparison; the statistics are given at least one measured trial in the budget, and a "
           f"curve is dotted where the chance that all k trials diverged exceeds {UNRELIABLE:.0%}.")


def draw_budget_curves(ax: Axes, frame: pd.DataFrame, spec: ScoreSpec) -> None:
    """One mean line and band per model; each line's gid is the model name (tests read it)."""
    for model in ordered_models(frame["model"]):
        rows = frame[frame["model"] == model].sort_values("k")
        color = model_color(model)
        ax.fill_between(rows["k"], rows["lower"], rows["upper"], color=color, alpha=0.15, linewidth=0)
        unreliable = rows["p_all_diverged"] > UNRELIABLE
        dotted = unreliable | unreliable.shift(1, fill_value=False)
        ax.plot(rows["k"], rows["mean"].where(~unreliable), color=color, linewidth=1.6,
                label=model_label(model), gid=model)
        if unreliable.any():
            ax.plot(rows["k"], rows["mean"].where(dotted), color=color, linewidth=1.2, linestyle=":")
    ax.set_xlabel("budget k (trained settings)")
    ax.set_xlim(1, max(frame["k"].max(), 2))
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # k counts trials: no tick at k = 1.5
    values = pd.concat([frame["lower"], frame["upper"]])
    best = "min" if spec.minimize else "max"
    set_score_axis(ax, values, spec.metric, f"{best} {metric_label(spec.metric)}\namong k trials")


def budget_panels(frame: pd.DataFrame, spec: ScoreSpec, title: str) -> Figure:
    fig, panels = dataset_panels(frame)
    for ax, dataset, rows in panels:
        draw_budget_curves(ax, rows, spec)
        ax.set_title(f"{dataset_label(dataset)} (n = {rows.groupby('model')['n_trials'].first().max()} per model)")
    legend_outside(fig, model_handles(ordered_models(frame["model"])))
    fig.suptitle(title)
    return fig


@register_figure("budget_narrow", title="Score vs budget, narrow search", caption=CAPTION, search="narrow")
@register_figure("budget_wide", title="Score vs budget, wide search", caption=CAPTION, search="wide")
def budget_figure(inputs: ReportInputs, search: str) -> Figure:
    spec = inputs.spec()
    frame = inputs.budget(spec, search)
    if frame.empty:
        raise FigureSkipped(f"no completed or diverged trials of a {search!r} search with {spec.column}")
    return budget_panels(frame, spec, f"Best {metric_label(spec.metric)} vs budget ({search} search)")
