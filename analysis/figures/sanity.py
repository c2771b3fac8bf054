"""The FID sanity experiment drawn as a curve: FID (and IS for contrast) as classes are dropped."""
from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.sanity import SETUP_COLUMNS, mode_dropping_summary
from gan_study.analysis.style import NEW_MODEL_COLORS, dataset_label, dataset_panels, legend_outside

CAPTION = ("Mode dropping (gan-fid-experiments mode-dropping): FID of real sets that keep only the first k classes, "
           "against the reference set, mean ± 1 sd over the random subsamples. FID rises as modes are dropped; the "
           "Inception score (dashed, right axis), where measured, barely reacts.")
FID_COLORS = ("#1f4e79",) + NEW_MODEL_COLORS
IS_COLOR = "#b85c00"


def setup_label(row: pd.Series) -> str:
    return ", ".join(f"{c} = {row[c]}" if c == "n" else str(row[c]) for c in SETUP_COLUMNS if c in row) or "FID"


@register_figure("mode_dropping", title="FID sanity check: mode dropping", caption=CAPTION)
def mode_dropping_figure(inputs: ReportInputs) -> Figure:
    if inputs.mode_dropping is None or inputs.mode_dropping.empty:
        raise FigureSkipped("no mode-dropping table was given (report option sanity.mode_dropping)")
    summary = mode_dropping_summary(inputs.mode_dropping)
    summary["setup"] = summary.apply(setup_label, axis=1)
    setups = list(dict.fromkeys(summary["setup"]))
    colors = dict(zip(setups, FID_COLORS))
    has_is = "is_mean" in summary.columns
    fig, panels = dataset_panels(summary, (4.2, 3.0))
    for ax, dataset, rows in panels:
        twin = ax.twinx() if has_is else None
        for setup, series in rows.groupby("setup", sort=False):
            ax.errorbar(series["k"], series["fid_mean"], yerr=series["fid_sd"], color=colors[setup], marker="o",
                        markersize=4, capsize=3, gid=f"fid {setup}")
            if twin is not None:
                twin.errorbar(series["k"], series["is_mean"], yerr=series["is_sd"], color=IS_COLOR, marker="s",
                              markersize=4, capsize=3, linestyle="--", gid=f"is {setup}")
        ax.set(xlabel="classes kept (k)", ylabel="FID", title=dataset_label(dataset))
        ax.set_xticks(sorted(rows["k"].unique()))
        if twin is not None:
            twin.set_ylabel("Inception score", color=IS_COLOR)
            twin.grid(False)
            twin.spines["right"].set_visible(True)
    handles = [Line2D([], [], color=colors[s], marker="o", label=f"FID ({s})") for s in setups]
    if has_is:
        handles.append(Line2D([], [], color=IS_COLOR, marker="s", linestyle="--", label="Inception score"))
    legend_outside(fig, handles)
    fig.suptitle("FID as modes are dropped")
    return fig
