"""Hyperparameter sensitivity: each trial's score against its learning rate, β1, n_disc..., per model."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import budget_trials
from gan_study.analysis.style import (dataset_label, legend_outside, metric_label, model_color, model_handles,
                            ordered_datasets, ordered_models, panel_matrix, param_label, plain_log_axis, set_score_axis)

ALIASES = {"lr": ("lr", "learning_rate"), "beta1": ("beta1", "beta_1"), "n_disc": ("n_disc", "disc_iters")}
LOG_SAMPLED = {"lr", "learning_rate", "clip", "penalty_weight", "k_lr", "lambda"}
"""The paper's log-uniform ranges (docs/protocol.md#wide-ranges); other numeric hyperparameters: judged from their values."""
LINEAR_SAMPLED = {"beta1", "beta_1", "gamma"}
CATEGORICAL_MAX = 6
"""A hyperparameter with at most this many values is drawn as categories, models side by side."""
CAPTION = ("{metric} of each measured trial of the search against one hyperparameter, coloured by model. "
           "Crosses on the top edge: diverged trials at that value.")


def param_column(columns: Sequence[str], name: str) -> str | None:
    """The `param_*` column for a hyperparameter, matching aliases and dotted names (`model.lr`)."""
    for alias in ALIASES.get(name, (name,)):
        for column in columns:
            if column.startswith("param_") and column.removeprefix("param_").rsplit(".", 1)[-1] == alias:
                return column
    return None


def log_uniform(name: str, values: np.ndarray) -> bool:
    """Drawn on a log axis: a known log-uniform hyperparameter, or positive values over two decades with most of
    them far below the largest (as log-uniform samples are)."""
    short = name.rsplit(".", 1)[-1]
    if short in LOG_SAMPLED or short in LINEAR_SAMPLED:
        return short in LOG_SAMPLED and len(values) > 0 and values.min() > 0
    return len(values) > 0 and values.min() > 0 and values.max() / values.min() > 100 and \
        np.median(values) < 0.1 * values.max()


def category_label(value: object) -> str:
    return str(int(value)) if isinstance(value, (float, np.floating)) and float(value).is_integer() else str(value)


def sensitivity_panel(ax: Axes, rows: pd.DataFrame, column: str, metric: str) -> None:
    values = rows[column]
    categories = sorted(values.dropna().unique(), key=str)
    categorical = len(categories) <= CATEGORICAL_MAX or values.dtype == bool
    models = ordered_models(rows["model"])
    rng = np.random.default_rng(0)  # jitter only
    for index, model in enumerate(models):
        own = rows[(rows["model"] == model) & values.notna()]
        if categorical:
            offset = (index - (len(models) - 1) / 2) * 0.6 / max(len(models), 1)
            x = own[column].map({c: i for i, c in enumerate(categories)}).to_numpy(float) + offset
            x = x + rng.uniform(-0.02, 0.02, len(x))
        else:
            x = own[column].to_numpy(float)
        finite = np.isfinite(own["score"].to_numpy())
        color = model_color(model)
        ax.scatter(x[finite], own["score"][finite], s=12, color=color, alpha=0.7, edgecolors="none", gid=model)
        ax.scatter(x[~finite], np.ones((~finite).sum()), s=18, marker="x", color=color, clip_on=False,
                   transform=ax.get_xaxis_transform())
    if categorical:
        ax.set_xticks(range(len(categories)), [category_label(c) for c in categories])
        ax.set_xlim(-0.6, len(categories) - 0.4)
    elif log_uniform(column.removeprefix("param_"), values.dropna().to_numpy(float)):
        plain_log_axis(ax, "x")
    ax.set_xlabel(param_label(column.removeprefix("param_")))
    set_score_axis(ax, rows["score"], metric, metric_label(metric))


@register_figure("sensitivity", title="Hyperparameter sensitivity", caption=CAPTION)
def sensitivity_figure(inputs: ReportInputs) -> Figure:
    spec = inputs.spec()
    search = inputs.main_search(inputs.tables.trials)
    trials = budget_trials(inputs.tables.trials, spec, search)
    columns = [c for c in (param_column(trials.columns, p) for p in inputs.options.sensitivity_params) if c]
    columns = [c for c in columns if trials[c].nunique() > 1]
    if trials.empty or not columns:
        raise FigureSkipped(f"no measured search trials vary any of {list(inputs.options.sensitivity_params)}")
    datasets = ordered_datasets(trials["dataset"])
    if len(datasets) == 1:  # one data set: the hyperparameters side by side, not a tall single column
        fig, axes = panel_matrix(1, len(columns), panel_size=(3.4, 2.7))
        axes = axes.T
    else:  # a row per hyperparameter, a column per data set
        fig, axes = panel_matrix(len(columns), len(datasets), panel_size=(3.4, 2.7))
    for row, column in enumerate(columns):
        for col, dataset in enumerate(datasets):
            ax = axes[row][col]
            sensitivity_panel(ax, trials[trials["dataset"] == dataset], column, spec.metric)
            if row == 0 or len(datasets) == 1:
                ax.set_title(dataset_label(dataset))
    diverged = Line2D([], [], marker="x", color="black", linestyle="none", label="diverged (top edge)")
    legend_outside(fig, model_handles(ordered_models(trials["model"])) + [diverged])
    fig.suptitle(f"{metric_label(spec.metric)} against hyperparameters ({search} search)")
    return fig
