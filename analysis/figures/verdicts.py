"""Which loss is better than the baseline at each budget: P(better) with its interval and Holm's decision."""
from __future__ import annotations

from matplotlib.figure import Figure

from gan_study.analysis.comparisons import DECISIONS, against
from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import (dataset_label, dataset_panels, legend_outside, metric_label, model_color,
                                      model_handles, model_label, ordered_models)

CAPTION = ("P(the best {metric} among a budget of trials of a loss beats the baseline's best among the same budget), "
           "exact from the trials by order statistics (ties count 1/2); band: bootstrap percentile interval over the "
           "trials; filled dots: decided after Holm's correction over every pair; above 1/2 the loss is ahead. "
           "docs/statistics.md.")


def baseline(models: list[str], reference: str) -> str:
    """The configured reference if the study has it, else the first loss in the paper's order."""
    return reference if reference in models else ordered_models(models)[0]


@register_figure("verdicts", title="Verdicts against the baseline vs budget", caption=CAPTION)
def verdicts_figure(inputs: ReportInputs) -> Figure:
    spec = inputs.spec()
    frame = inputs.verdicts(spec)
    search = inputs.main_search(inputs.tables.trials)
    frame = frame[frame["search"] == search]
    if frame.empty:
        raise FigureSkipped("no data set has two losses with measured trials")
    hours = frame["unit"].iloc[0] == "hours"
    fig, panels = dataset_panels(frame, (4.2, 3.2))
    shown = set()
    for ax, dataset, rows in panels:
        reference = baseline(sorted(set(rows["model_a"]) | set(rows["model_b"])), inputs.options.verdicts.reference)
        rows = against(rows, reference)
        for machine_index, (machine, by_machine) in enumerate(rows.groupby("machine", sort=False)):
            for model in ordered_models(by_machine["model_a"]):
                line = by_machine[by_machine["model_a"] == model].sort_values("budget")
                color = model_color(model)
                style = "-" if machine_index == 0 else "--"
                ax.fill_between(line["budget"], line["lower"], line["upper"], color=color, alpha=0.12, linewidth=0)
                ax.plot(line["budget"], line["p_better"], style, color=color, linewidth=1.5, gid=model)
                decided = line[line["decision"] != DECISIONS[2]]
                ax.plot(decided["budget"], decided["p_better"], "o", color=color, markersize=4)
                shown.add(model)
        ax.axhline(0.5, color="black", linewidth=0.8, linestyle=":")
        ax.set_ylim(-0.02, 1.02)
        if hours:
            ax.set_xscale("log")
        ax.set_xlabel("budget (device-hours)" if hours else "budget k (trials of each loss)")
        ax.set_ylabel(f"P(better than {model_label(reference)})")
        ax.set_title(f"{dataset_label(dataset)} ({search} search)")
    legend_outside(fig, model_handles(ordered_models(shown)))
    fig.suptitle(f"Best {metric_label(spec.metric)} at a budget: which loss beats the baseline")
    return fig
