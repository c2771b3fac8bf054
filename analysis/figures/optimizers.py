"""The paper's Adam-vs-RMSProp experiment (experiment=paper_optimizer): the best score among k trials against the
budget k for each optimiser's search (`wide_adam`, `wide_rmsprop`), side by side per data set and model."""
from __future__ import annotations

import re

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import (dataset_label, legend_outside, metric_label, model_label, ordered_datasets,
                                      panel_grid, set_score_axis)

OPTIMIZER_SEARCH = re.compile(r"^(?P<space>.+)_(?P<optimizer>adam|rmsprop)$")
COLORS = {"adam": "#1f4e79", "rmsprop": "#b85c00"}
LABELS = {"adam": "Adam", "rmsprop": "RMSProp"}
CAPTION = ("Adam vs RMSProp (experiment=paper_optimizer, docs/protocol.md#experiments): best {metric} among k trials of the same "
           "wide-range hyperparameter samples, trained with each optimiser ({budget}); one line per optimiser, n trials "
           "in each panel title.")


@register_figure("optimizer_budget", title="Adam vs RMSProp: score vs budget", caption=CAPTION)
def optimizer_figure(inputs: ReportInputs) -> Figure:
    spec = inputs.spec()
    searches = sorted(s for s in set(inputs.tables.trials["search"]) if OPTIMIZER_SEARCH.match(str(s)))
    frame = pd.concat([inputs.budget(spec, search) for search in searches]) if searches else pd.DataFrame()
    if frame.empty:
        raise FigureSkipped("no study of experiment=paper_optimizer (searches wide_adam / wide_rmsprop) was loaded")
    frame = frame.assign(optimizer=frame["search"].map(lambda s: OPTIMIZER_SEARCH.match(s)["optimizer"]))
    panels = [(d, m) for d in ordered_datasets(frame["dataset"]) for m in dict.fromkeys(frame.loc[frame["dataset"] == d, "model"])]
    fig, axes = panel_grid(len(panels))
    for ax, (dataset, model) in zip(axes, panels):
        rows = frame[(frame["dataset"] == dataset) & (frame["model"] == model)]
        counts = []
        for optimizer, curve in rows.groupby("optimizer", sort=True):
            curve = curve.sort_values("k")
            ax.fill_between(curve["k"], curve["lower"], curve["upper"], color=COLORS[optimizer], alpha=0.15, linewidth=0)
            ax.plot(curve["k"], curve["mean"], color=COLORS[optimizer], linewidth=1.6, gid=optimizer)
            counts.append(f"{LABELS[optimizer]} n = {int(curve['n_trials'].iloc[0])}")
        ax.set_xlabel("budget k (trained settings)")
        set_score_axis(ax, pd.concat([rows["lower"], rows["upper"]]), spec.metric,
                       f"{'min' if spec.minimize else 'max'} {metric_label(spec.metric)}\namong k trials")
        ax.set_title(f"{dataset_label(dataset)}, {model_label(model)}\n{', '.join(counts)}", fontsize=9)
    legend_outside(fig, [Line2D([], [], color=COLORS[o], linewidth=2, label=LABELS[o]) for o in COLORS])
    fig.suptitle(f"Adam vs RMSProp: best {metric_label(spec.metric)} vs budget")
    return fig
