"""Shmelkov et al.'s data-augmentation utility (§5.4): test accuracy against the generated:real ratio of the
training set, beside the real-only baseline (ratio 0)."""
from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gan_study.analysis.figures.registry import given_table, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import dataset_label, legend_outside, ordered_datasets, panel_grid

CAPTION = ("Data augmentation (python -m gan_study.study.cli.augmentation): test accuracy of the GAN-train classifier "
           "trained on the first n_real real images plus ratio·n_real images of a class-conditional run (its best "
           "FID evaluation), one point per ratio; dashed: the real-only baseline (ratio 0). Above the line, generated "
           "images help; below, they hurt.")
CURVE, BASELINE = "#1f4e79", "#7f7f7f"


@register_figure("augmentation_utility", title="Data augmentation with generated images", caption=CAPTION)
def augmentation_figure(inputs: ReportInputs) -> Figure:
    table = given_table(inputs.augmentation, "data-augmentation", "sanity.augmentation",
                        "python -m gan_study.study.cli.augmentation")
    groups = [(dataset, n_real) for dataset in ordered_datasets(table["dataset"])
              for n_real in sorted(table.loc[table["dataset"] == dataset, "n_real"].unique())]
    fig, axes = panel_grid(len(groups), panel_size=(4.0, 3.0))
    for ax, (dataset, n_real) in zip(axes, groups):
        rows = table[(table["dataset"] == dataset) & (table["n_real"] == n_real)].sort_values("ratio")
        ax.plot(rows["ratio"], rows["accuracy"], color=CURVE, marker="o", gid="real + generated")
        baseline = rows.loc[rows["ratio"] == 0, "accuracy"]
        if len(baseline):
            ax.axhline(float(baseline.iloc[0]), color=BASELINE, linestyle="--", gid="real only")
        runs = ", ".join(sorted(set(rows["run"].astype(str)))) if "run" in rows else ""
        ax.set(xlabel="generated : real images", ylabel="test accuracy",
               title=f"{dataset_label(dataset)}, n_real = {n_real}" + (f"\n{runs}" if runs else ""))
    legend_outside(fig, [Line2D([], [], color=CURVE, marker="o", label="real + generated"),
                         Line2D([], [], color=BASELINE, linestyle="--", label="real only (ratio 0)")])
    fig.suptitle("Data augmentation with generated images")
    return fig
