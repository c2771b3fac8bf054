"""GAN-train against GAN-test per trial, and the diversity curves (GAN-train against the number of
generated training images, beside real images), for studies that recorded `eval.metrics.gan_train_test`."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import (dataset_label, dataset_panels, legend_outside, model_color, model_handles,
                            ordered_models, plain_log_axis)

SCORE = "gan_train_test_hmean"
PAIR = ("gan_test", "gan_train", "real_accuracy")
CURVE_COLUMN = re.compile(r"^final_(gan_train|real_train)_n(\d+)$")
REAL_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.2}
SCATTER_CAPTION = ("GAN-test (x: a classifier trained on real images, tested on generated ones; quality) against "
                   "GAN-train (y: a classifier trained on generated images, tested on real ones; diversity), one "
                   "point per completed trial, read at its evaluation with the best harmonic mean (the final "
                   "evaluation when the learning curves are absent). Dashed: the real classifier's accuracy on "
                   "the real test split, the ceiling of both.")
CURVE_CAPTION = ("GAN-train accuracy against the number of generated training images, for each model's trial with "
                 "the best final harmonic mean of GAN-train and GAN-test; dashed black: the same classifier trained "
                 "on as many real training images (median over the trials, which share it).")


def values_at_best_evaluation(inputs: ReportInputs, trials: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Per trial, `columns` from one evaluation: the one with the best harmonic mean, else the final values."""
    evaluations, keys = inputs.tables.evaluations, ["study", "trial"]
    if all(c in evaluations.columns for c in (SCORE, *columns)):
        measured = evaluations.dropna(subset=[SCORE])
        measured = measured.merge(trials[keys], on=keys)
        if not measured.empty:
            best = measured.loc[measured.groupby(keys)[SCORE].idxmax(), keys + list(columns)]
            return trials.merge(best, on=keys)
    final = [f"final_{c}" for c in columns]
    if not all(c in trials.columns for c in final):
        return trials.iloc[:0].assign(**{c: [] for c in columns})
    return trials.assign(**{c: trials[f] for c, f in zip(columns, final)}).dropna(subset=list(columns))


@register_figure("gan_train_vs_gan_test", title="GAN-train against GAN-test", caption=SCATTER_CAPTION)
def gan_train_vs_gan_test_figure(inputs: ReportInputs) -> Figure:
    trials = inputs.tables.trials
    if not {"final_gan_train", "final_gan_test"} <= set(trials.columns):
        raise FigureSkipped("no trials with GAN-train / GAN-test values (eval.metrics.gan_train_test)")
    points = values_at_best_evaluation(inputs, trials[trials["status"] == "completed"], PAIR)
    if points.empty:
        raise FigureSkipped("no completed trials with GAN-train / GAN-test values")
    fig, panels = dataset_panels(points, (4.0, 3.8))
    for ax, dataset, rows in panels:
        for model in ordered_models(rows["model"]):
            mine = rows[rows["model"] == model]
            ax.scatter(mine["gan_test"], mine["gan_train"], s=18, color=model_color(model), alpha=0.8,
                       edgecolors="none", gid=model)
        real = float(rows["real_accuracy"].median())
        ax.axvline(real, gid="real_accuracy", **REAL_STYLE)
        ax.axhline(real, **REAL_STYLE)
        ax.set(xlim=(0, 1.02), ylim=(0, 1.02), aspect="equal", xlabel="GAN-test (accuracy on generated images)",
               ylabel="GAN-train (accuracy on real images)", title=f"{dataset_label(dataset)} ({len(rows)} trials)")
    handles = model_handles(ordered_models(points["model"]), marker="o", linestyle="none")
    legend_outside(fig, handles + [Line2D([], [], label="real classifier", **REAL_STYLE)])
    fig.suptitle("GAN-train (diversity) against GAN-test (quality)")
    return fig


def curve_sizes(trials: pd.DataFrame) -> list[int]:
    """The image counts n with both final_gan_train_n<n> and final_real_train_n<n> columns."""
    found: dict[str, set[int]] = {"gan_train": set(), "real_train": set()}
    for column in trials.columns:
        match = CURVE_COLUMN.match(column)
        if match:
            found[match.group(1)].add(int(match.group(2)))
    return sorted(found["gan_train"] & found["real_train"])


@register_figure("diversity_curves", title="Diversity curves: GAN-train against the number of images",
                 caption=CURVE_CAPTION)
def diversity_curves_figure(inputs: ReportInputs) -> Figure:
    trials = inputs.tables.trials
    sizes = curve_sizes(trials)
    if not sizes:
        raise FigureSkipped("no trials with a diversity curve (gan_train_test: diversity_curve: [n, ...])")
    generated = [f"final_gan_train_n{n}" for n in sizes]
    real = [f"final_real_train_n{n}" for n in sizes]
    measured = trials[(trials["status"] == "completed")].dropna(subset=generated, how="all")
    if measured.empty:
        raise FigureSkipped("no completed trials with a diversity curve")
    fig, panels = dataset_panels(measured)
    for ax, dataset, rows in panels:
        for model in ordered_models(rows["model"]):
            mine = rows[rows["model"] == model]
            order = mine[f"final_{SCORE}"] if f"final_{SCORE}" in mine.columns else mine[generated[-1]]
            best = mine.loc[order.astype(float).fillna(-np.inf).idxmax()]
            ax.plot(sizes, best[generated].astype(float).to_numpy(), color=model_color(model), marker="o",
                    markersize=3, linewidth=1.6, gid=model)
        ax.plot(sizes, rows[real].astype(float).median().to_numpy(), marker="s", markersize=3, gid="real", **REAL_STYLE)
        plain_log_axis(ax, "x")
        ax.set(xlabel="training images", ylabel="accuracy on the real test split", ylim=(0, 1.02),
               title=dataset_label(dataset))
    legend_outside(fig, model_handles(ordered_models(measured["model"]))
                   + [Line2D([], [], label="real images", marker="s", **REAL_STYLE)])
    fig.suptitle("Diversity: GAN-train against the number of training images")
    return fig
