"""The seed study: one configuration per model retrained with many seeds, mean ± sd (the best-FID table's figure)."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gan_study.analysis.figures.distributions import diverged_counts, mark_diverged
from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import trial_scores
from gan_study.analysis.tables import seed_table
from gan_study.analysis.style import (dataset_label, dataset_panels, metric_label, model_color, model_label,
                            ordered_models, set_score_axis)

CAPTION = ("Seed study: one configuration per model trained with several seeds. Dots: single seeds; bar: mean ± 1 sd "
           "of the seeds with a finite score (a diverged seed counts by its best evaluation before diverging, the "
           "paper's rule, or is excluded without one). Red counts above a model: diverged seeds.")


@register_figure("seeds", title="Seed study: mean ± sd over seeds", caption=CAPTION)
def seeds_figure(inputs: ReportInputs) -> Figure:
    spec = inputs.spec()
    trials = inputs.tables.trials
    trials = trials[trials["seed_study"] & trials["measured"]].assign(score=lambda t: trial_scores(t, spec))
    trials = trials[trials["score"].notna()]
    if trials.empty:
        raise FigureSkipped("no seed study (trials sharing one configuration with different seeds) was loaded")
    table = seed_table(inputs, spec).frame
    fig, panels = dataset_panels(trials, (4.0, 3.2))
    rng = np.random.default_rng(0)  # jitter only
    for ax, dataset, rows in panels:
        models = ordered_models(rows["model"])
        positions = list(range(1, len(models) + 1))
        for x, model in zip(positions, models):
            scores = rows.loc[rows["model"] == model, "score"].to_numpy()
            measured = scores[np.isfinite(scores)]
            color = model_color(model)
            ax.plot(x + rng.uniform(-0.18, 0.18, len(measured)), measured, "o", color=color, alpha=0.35,
                    markersize=3)
            summary = table[(table["dataset"] == dataset) & (table["model"] == model)].iloc[0]
            if summary["measured"]:
                ax.errorbar([x], [summary["mean"]], yerr=[np.nan_to_num(summary["sd"])], fmt="s", color=color,
                            markeredgecolor="black", capsize=5, markersize=7, elinewidth=2, gid=model)
        mark_diverged(ax, positions, diverged_counts(rows, models))
        ax.set_xticks(positions, [model_label(m) for m in models], rotation=40, ha="right")
        ax.set_xlim(0.4, len(models) + 0.6)
        ax.grid(axis="x", visible=False)
        set_score_axis(ax, rows["score"], spec.metric, metric_label(spec.metric))
        ax.set_title(f"{dataset_label(dataset)} ({rows.groupby('model').size().max()} seeds)", pad=14)
    fig.suptitle(f"{metric_label(spec.metric)} over seeds of one configuration per model")
    return fig
