"""Learning curves: the score at each evaluation step, per model (median and quartiles over trials)."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import (dataset_label, dataset_panels, legend_outside, metric_label, model_color,
                            model_handles, model_label, ordered_models, set_score_axis)

CAPTION = ("{metric} at each evaluation against the training step: median over the measured trials of the search "
           "(line) and their interquartile range (band). A diverged trial's curve stops where it diverged.")


@register_figure("learning_curves", title="Learning curves", caption=CAPTION)
def learning_curves_figure(inputs: ReportInputs) -> Figure:
    metric = inputs.options.metric
    evaluations = inputs.tables.evaluations
    if metric not in evaluations.columns or evaluations[metric].notna().sum() == 0:
        raise FigureSkipped(f"the evaluation table has no {metric!r} values (no learning curves were exported)")
    trials = inputs.tables.trials
    search = inputs.main_search(trials)
    chosen = trials.loc[~trials["seed_study"] & trials["measured"] & (trials["search"] == search), ["study", "trial"]]
    curves = evaluations.merge(chosen, on=["study", "trial"])
    curves = curves.assign(**{metric: curves[metric].astype(float)})
    curves = curves[np.isfinite(curves[metric])]
    if curves.empty:
        raise FigureSkipped(f"no measured trial of the {search!r} search has {metric!r} evaluations")
    fig, panels = dataset_panels(curves)
    for ax, dataset, rows in panels:
        for model in ordered_models(rows["model"]):
            by_step = rows[rows["model"] == model].groupby("step")[metric]
            quartiles = by_step.quantile([0.25, 0.5, 0.75]).unstack()
            color = model_color(model)
            ax.fill_between(quartiles.index, quartiles[0.25], quartiles[0.75], color=color, alpha=0.15, linewidth=0)
            ax.plot(quartiles.index, quartiles[0.5], color=color, linewidth=1.6, marker="o", markersize=3,
                    label=model_label(model), gid=model)
        ax.set_xlabel("training step")
        set_score_axis(ax, rows[metric], metric, metric_label(metric))
        ax.set_title(f"{dataset_label(dataset)} ({rows[['study', 'trial']].drop_duplicates().shape[0]} trials)")
    legend_outside(fig, model_handles(ordered_models(curves["model"])))
    fig.suptitle(f"{metric_label(metric)} during training ({search} search)")
    return fig
