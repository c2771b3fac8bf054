"""Score distributions of a search per model and data set (the paper's wide- and narrow-range box plots)."""
from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import ScoreSpec, budget_trials
from gan_study.analysis.style import (DIVERGED_MARKER, dataset_label, dataset_panels, legend_outside, metric_label,
                            model_color, model_label, ordered_models, set_score_axis)

CAPTION = ("{metric} of every measured trial of the search, per model (box: quartiles, whiskers: 1.5 IQR). "
           "Black star: the default (author-suggested) hyperparameters, hollow when they lie outside the search "
           "space. Diverged trials count by their best evaluation before diverging (the paper's rule) and are left out "
           "when they have no finite score; their count is printed in red above each model.")


def mark_diverged(ax: Axes, positions: list[float], counts: list[int]) -> None:
    """A red count above each position with diverged trials, in axes coordinates (never clipped by the data)."""
    for x, count in zip(positions, counts):
        if count:
            ax.annotate(f"{count}×", xy=(x, 1.0), xycoords=("data", "axes fraction"), ha="center", va="bottom",
                        color=DIVERGED_MARKER["color"], fontsize=8, gid="diverged")


def diverged_counts(rows, models: list[str]) -> list[int]:
    """Diverged trials per model, whether or not they have a finite score."""
    return [int(((rows["model"] == m) & (rows["status"] == "diverged")).sum()) for m in models]


def box_panel(ax: Axes, rows, spec: ScoreSpec) -> None:
    models = ordered_models(rows["model"])
    positions = list(range(1, len(models) + 1))
    finite = [rows.loc[(rows["model"] == m) & np.isfinite(rows["score"]), "score"].to_numpy() for m in models]
    boxes = ax.boxplot([v if len(v) else [np.nan] for v in finite], positions=positions, widths=0.6,
                       patch_artist=True, flierprops={"markersize": 3, "alpha": 0.6})
    for box, model in zip(boxes["boxes"], models):
        box.set(facecolor=model_color(model), alpha=0.55, edgecolor="black", linewidth=0.8, gid=model)
    for median in boxes["medians"]:
        median.set(color="black", linewidth=1.2)
    for x, model in zip(positions, models):
        defaults = rows[(rows["model"] == model) & rows["is_default"] & np.isfinite(rows["score"])]
        for _, trial in defaults.iterrows():
            outside = bool(trial["default_outside_space"])
            ax.plot([x], [trial["score"]], marker="*", markersize=12, linestyle="none", zorder=5, gid="default",
                    markerfacecolor="white" if outside else "black", markeredgecolor="black")
    mark_diverged(ax, positions, diverged_counts(rows, models))
    ax.set_xticks(positions, [model_label(m) for m in models], rotation=40, ha="right")
    ax.set_xlim(0.4, len(models) + 0.6)
    ax.grid(axis="x", visible=False)
    set_score_axis(ax, rows["score"], spec.metric, metric_label(spec.metric))


def legend_entries() -> list[Line2D]:
    return [Line2D([], [], marker="*", markersize=11, color="black", linestyle="none", label="default hyperparameters"),
            Line2D([], [], marker="*", markersize=11, markerfacecolor="white", markeredgecolor="black",
                   linestyle="none", label="default, outside the space"),
            Line2D([], [], marker="x", color=DIVERGED_MARKER["color"], linestyle="none",
                   label="n× above a model: n diverged trials")]


@register_figure("narrow_distributions", title="Score distributions, narrow search", caption=CAPTION,
                 search="narrow")
@register_figure("wide_distributions", title="Score distributions, wide search", caption=CAPTION, search="wide")
def distributions_figure(inputs: ReportInputs, search: str) -> Figure:
    spec = inputs.spec()
    trials = budget_trials(inputs.tables.trials, spec, search)
    if trials.empty:
        raise FigureSkipped(f"no completed or diverged trials of a {search!r} search with {spec.column}")
    fig, panels = dataset_panels(trials, (4.2, 3.4))
    for ax, dataset, rows in panels:
        box_panel(ax, rows, spec)
        ax.set_title(dataset_label(dataset), pad=14)
    legend_outside(fig, legend_entries())
    fig.suptitle(f"{metric_label(spec.metric)} of every trial ({search} search)")
    return fig
