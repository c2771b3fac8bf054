"""Across data sets: each loss's performance profile, the fraction of its trials above each normalised score."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import legend_outside, metric_label, model_color, model_handles, ordered_models

CAPTION = ("Performance profiles (Agarwal et al. 2021): the fraction of a loss's trials whose {metric}, normalised per "
           "data set (1 = the best score any loss reached there, 0 = the worst or diverged), exceeds τ, averaged over "
           "the data sets it ran on; band: bootstrap interval stratified by data set. A curve above another is better "
           "at every threshold. docs/statistics.md.")


@register_figure("performance_profiles", title="Across data sets: performance profiles", caption=CAPTION)
def profiles_figure(inputs: ReportInputs) -> Figure:
    spec = inputs.spec()
    profiles = inputs.aggregates(spec)[1]
    if profiles.empty:
        raise FigureSkipped("no loss ran on two or more data sets")
    fig, ax = plt.subplots(figsize=(5.0, 3.4), layout="constrained")
    models = ordered_models(profiles["model"])
    for model in models:
        rows = profiles[profiles["model"] == model]
        ax.fill_between(rows["tau"], rows["lower"], rows["upper"], color=model_color(model), alpha=0.12, linewidth=0)
        ax.plot(rows["tau"], rows["fraction"], color=model_color(model), linewidth=1.5, gid=model)
    ax.set_xlabel(f"normalised {metric_label(spec.metric)} τ (1 = best seen)")
    ax.set_ylabel("fraction of trials > τ")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    legend_outside(fig, model_handles(models))
    return fig
