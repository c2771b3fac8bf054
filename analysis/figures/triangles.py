"""Precision, recall and F1 on Triangles: where each trial lands, and F1 against the budget."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gan_study.analysis.figures.budget import draw_budget_curves
from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import legend_outside, model_color, model_handles, ordered_models, panel_grid

DATASET = "triangles"
METRICS = ("precision", "recall", "f1")
CAPTION = ("Triangles. Left: precision and recall of each completed trial, read at its evaluation with the best F1 "
           "(the final evaluation when the learning curves are absent); grey curves: equal F1 (0.2, 0.4, 0.6, 0.8). Right: best F1 among "
           "k trials against the budget k ({budget}); diverged trials count as F1 = -inf.")


def precision_recall_points(inputs: ReportInputs, trials: pd.DataFrame) -> pd.DataFrame:
    """Per completed trial: precision and recall at one evaluation (the best-F1 one), so each point is one model state."""
    evaluations = inputs.tables.evaluations
    keys = ["study", "trial"]
    if all(m in evaluations.columns for m in METRICS):
        measured = evaluations.dropna(subset=["f1"])
        best = measured.loc[measured.groupby(keys)["f1"].idxmax(), keys + ["precision", "recall"]]
        points = trials.merge(best, on=keys, how="inner")
        if not points.empty:
            return points
    final = [f"final_{m}" for m in ("precision", "recall")]
    if not all(c in trials.columns for c in final):
        return trials.iloc[:0].assign(precision=[], recall=[])
    return trials.assign(precision=trials[final[0]], recall=trials[final[1]]).dropna(subset=["precision", "recall"])


@register_figure("triangles_precision_recall", title="Precision, recall and F1 on Triangles", caption=CAPTION)
def triangles_figure(inputs: ReportInputs) -> Figure:
    trials = inputs.tables.trials
    trials = trials[(trials["dataset"] == DATASET) & ~trials["seed_study"]]
    search = inputs.main_search(trials)
    trials = trials[trials["search"] == search]
    if trials.empty or f"{inputs.options.score}_f1" not in trials.columns:
        raise FigureSkipped(f"no {DATASET} trials with precision/recall/F1 ({inputs.options.score}_f1) were loaded")
    spec = inputs.spec("f1")
    points = precision_recall_points(inputs, trials[trials["status"] == "completed"])
    frame = inputs.budget(spec, search)
    frame = frame[frame["dataset"] == DATASET]
    if points.empty and frame.empty:
        raise FigureSkipped(f"no measured {DATASET} trials")
    fig, (scatter, budget) = panel_grid(2, panel_size=(4.2, 3.6))
    grid = np.linspace(0.01, 1, 200)
    for f1 in (0.2, 0.4, 0.6, 0.8):
        recall = f1 * grid / (2 * grid - f1)
        keep = (grid > f1 / 2) & (recall <= 1)
        scatter.plot(grid[keep], recall[keep], color="grey", linewidth=0.6, alpha=0.5)
        scatter.annotate(f"{f1}", xy=(f1 * 0.95 / (1.9 - f1), 0.95), fontsize=7, color="grey", ha="right", va="bottom")
    for model in ordered_models(points["model"]):
        rows = points[points["model"] == model]
        scatter.scatter(rows["precision"], rows["recall"], s=16, color=model_color(model), alpha=0.75,
                        edgecolors="none", gid=model)
    diverged = int((trials["status"] == "diverged").sum())
    scatter.set(xlim=(0, 1.02), ylim=(0, 1.02), xlabel="precision", ylabel="recall", aspect="equal",
                title=f"per trial ({len(points)} completed, {diverged} diverged)")
    if frame.empty:
        budget.set_visible(False)
    else:
        draw_budget_curves(budget, frame, spec)
        budget.set_title("best F1 among k trials")
    legend_outside(fig, model_handles(ordered_models(pd.concat([points["model"], frame["model"]]))))
    fig.suptitle(f"Triangles: precision, recall and F1 ({search} search)")
    return fig
