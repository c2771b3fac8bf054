"""What the models draw: the last sample grid of each model's published defaults and of its best trial."""
from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
from matplotlib.figure import Figure

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import ScoreSpec, budget_trials
from gan_study.analysis.style import dataset_label, metric_label, model_label, ordered_datasets, ordered_models, panel_matrix

CAPTION = ("Samples from the fixed evaluation latents at each run's last evaluation: per data set and model, the "
           "trial with the published default hyperparameters (left) and the trial with the best {metric} (right).")


def last_sample_grid(run_dir: object) -> Path | None:
    """The newest `samples/step_*.png` of a run folder, or None when the folder is not readable here."""
    if not isinstance(run_dir, str) or not run_dir:
        return None
    grids = sorted((Path(run_dir) / "samples").glob("step_*.png"))
    return grids[-1] if grids else None


def shown_trials(trials: pd.DataFrame, spec: ScoreSpec) -> list[tuple[str, pd.Series]]:
    """(label, trial) for the defaults' trial and the best-scoring one (once, when they are the same trial)."""
    shown = []
    defaults = trials[trials["is_default"]]
    if not defaults.empty:
        shown.append(("published defaults", defaults.iloc[0]))
    best = trials.loc[trials["score"].idxmin() if spec.minimize else trials["score"].idxmax()]
    if not shown or best["trial"] != shown[0][1]["trial"]:
        shown.append((f"best, trial {best['trial']}", best))
    return shown


@register_figure("samples", title="Samples of the defaults and of the best trial", caption=CAPTION)
def samples_figure(inputs: ReportInputs) -> Figure:
    spec = inputs.spec()
    trials = budget_trials(inputs.tables.trials, spec, inputs.main_search(inputs.tables.trials))
    trials = trials[trials["status"] == "completed"]
    trials = trials.assign(grid=trials["run_dir"].map(last_sample_grid)).dropna(subset=["grid"])
    if trials.empty:
        raise FigureSkipped("no completed trial's run folder (with samples/) is readable from here")
    rows = [(dataset, model) for dataset in ordered_datasets(trials["dataset"])
            for model in ordered_models(trials.loc[trials["dataset"] == dataset, "model"])]
    fig, axes = panel_matrix(len(rows), 2, panel_size=(2.6, 2.9))
    for (dataset, model), row_axes in zip(rows, axes):
        group = trials[(trials["dataset"] == dataset) & (trials["model"] == model)]
        shown = shown_trials(group, spec)
        for ax, (label, trial) in zip(row_axes, shown):
            ax.imshow(mpimg.imread(trial["grid"]), cmap="gray", interpolation="nearest")
            ax.set_title(f"{model_label(model)}, {dataset_label(dataset)}\n{label}: {trial['score']:.4g}", fontsize=8)
        for ax in row_axes:
            ax.set_axis_off()
    fig.suptitle(f"Samples ({metric_label(spec.metric)} of each trial in its panel title)")
    return fig
