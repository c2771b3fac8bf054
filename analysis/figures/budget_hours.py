"""Score against compute: the expected best score among the trials each loss can afford in H device-hours."""
from __future__ import annotations

from matplotlib.figure import Figure

from gan_study.analysis.compute_budget import hours_curves
from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import (dataset_label, legend_outside, metric_label, model_color, model_handles,
                                      ordered_models, panel_grid, plain_log_axis, set_score_axis)

CAPTION = ("Exact expected best {metric} (± 1 sd, order statistics) among the trials a loss can afford in H device-hours "
           "on one kind of machine: its mean measured wall time per trial, diverged trials included, sets how many "
           "(k = ⌊H / cost⌋, at least 1). One panel per data set and kind of machine; kinds are never pooled. From one "
           "trial of the dearest loss to the hours every loss spent. docs/statistics.md.")


@register_figure("budget_hours", title="Score vs device-hours", caption=CAPTION)
def budget_hours_figure(inputs: ReportInputs) -> Figure:
    spec = inputs.spec()
    search = inputs.main_search(inputs.tables.trials)
    frame = hours_curves(inputs.tables.trials, spec, search, inputs.runs_root, inputs.options.budget.replace)
    if frame.empty:
        raise FigureSkipped("no trial with a recorded wall time (runtime_s)")
    groups = list(frame.groupby(["dataset", "machine"], sort=False))
    fig, axes = panel_grid(len(groups), (4.2, 3.2))
    for ax, ((dataset, machine), rows) in zip(axes, groups):
        for model in ordered_models(rows["model"]):
            line = rows[rows["model"] == model]
            ax.fill_between(line["hours"], line["lower"], line["upper"], color=model_color(model), alpha=0.15,
                            linewidth=0)
            ax.plot(line["hours"], line["mean"], color=model_color(model), linewidth=1.6, gid=model)
        plain_log_axis(ax, "x")
        ax.set_xlabel("budget (device-hours)")
        set_score_axis(ax, rows[["lower", "upper"]].to_numpy().ravel(), spec.metric,
                       f"{'min' if spec.minimize else 'max'} {metric_label(spec.metric)}\nwithin the budget")
        ax.set_title(f"{dataset_label(dataset)}, {machine}", fontsize=8)
    legend_outside(fig, model_handles(ordered_models(frame["model"])))
    fig.suptitle(f"Best {metric_label(spec.metric)} vs device-hours ({search} search)")
    return fig
