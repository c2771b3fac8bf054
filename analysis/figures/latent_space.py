"""Latent space figures of trained runs: interpolation between two latents (linear and spherical), and for
class-conditional runs the same latents drawn as every class ("arithmetic in the latent space").

Each data set's best completed trial (by the report's score) whose run folder holds a generator is shown: the
generator of its best evaluation of that score (generators/, record.json), else its latest one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import budget_trials
from gan_study.analysis.style import dataset_label, model_label, ordered_datasets, panel_grid

if TYPE_CHECKING:  # torch is imported where a generator is drawn: reading results never needs it
    import torch

    from gan_study.study.train.trained_generator import TrainedGenerator

LATENT_SEED = 0
"""The seed of the latents drawn (from each run's own prior)."""
STEPS = 8
"""Images per interpolation row, endpoints included."""
ROWS_PER_CLASS_FIGURE = 4
CAPTION_INTERPOLATION = ("Latent interpolation: for each data set, the best completed trial by {metric} (its generator "
                         f"of that best evaluation), images of {STEPS} latents from z₀ to z₁ (drawn from the run's "
                         f"prior, seed {LATENT_SEED}): linear (top row) and spherical (bottom row, constant norm for "
                         "equal-norm endpoints). Class-conditional runs are drawn as class 0.")
CAPTION_CLASSES = (f"The same latent across all classes: for each data set, the best completed class-conditional trial "
                   f"by {{metric}}; each row is one latent (seed {LATENT_SEED}), each column one class. What stays "
                   "constant along a row is what the latent holds (style); what changes is the class.")


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(len(t), d): (1 − t)·z₀ + t·z₁."""
    return (1 - t)[:, None] * z0 + t[:, None] * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(len(t), d): along the great circle between the directions of z₀ and z₁ (White 2016), linear when parallel."""
    import torch

    cosine = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cosine.clamp(-1.0, 1.0))
    if torch.sin(omega).abs() < 1e-6:
        return lerp(z0, z1, t)
    weights = torch.stack([torch.sin((1 - t) * omega), torch.sin(t * omega)], dim=1) / torch.sin(omega)
    return weights[:, :1] * z0 + weights[:, 1:] * z1


def best_generators(inputs: ReportInputs, conditional: bool) -> list[tuple[pd.Series, TrainedGenerator]]:
    """Per data set (paper order): its best completed trial with a generator here (conditional ones if asked)."""
    from gan_study.study.train.trained_generator import TrainedGenerator, generator_file

    spec = inputs.spec()
    trials = budget_trials(inputs.tables.trials, spec)
    trials = trials[trials["status"] == "completed"].sort_values("score", ascending=spec.minimize, kind="stable")
    chosen = []
    for dataset in ordered_datasets(trials["dataset"]):
        for _, trial in trials[trials["dataset"] == dataset].iterrows():
            path = generator_file(trial["run_dir"], spec.metric)
            if path is None:
                continue
            generator = TrainedGenerator(path, spec.metric)
            if conditional and generator.num_classes is None:
                continue
            chosen.append((trial, generator))
            break
    return chosen


def generator_panels(inputs: ReportInputs, conditional: bool, panel_height: float
                     ) -> tuple[Figure, list[tuple[Axes, pd.Series, TrainedGenerator]]]:
    """One full-width panel per data set's best generator (`best_generators`), or FigureSkipped when there is none."""
    chosen = best_generators(inputs, conditional)
    if not chosen:
        which = ("class-conditional trial (conditional.enabled=true) with a kept generator" if conditional else
                 "trial's run folder with a kept generator (generators/ or checkpoint.pt)")
        raise FigureSkipped(f"no completed {which} is readable from here")
    fig, axes = panel_grid(len(chosen), panel_size=(4.8, panel_height), max_columns=1)
    return fig, [(ax, trial, generator) for ax, (trial, generator) in zip(axes, chosen)]


def image_grid(images: torch.Tensor, rows: int) -> np.ndarray:
    """(rows·cols, C, H, W) in [0, 1] -> one (rows·(H+1)−1, cols·(W+1)−1[, 3]) array, 1-pixel white gutters."""
    n, channels, height, width = images.shape
    cols = n // rows
    grid = images.new_ones(channels, rows * (height + 1) - 1, cols * (width + 1) - 1)
    for index, image in enumerate(images.clamp(0, 1)):
        r, c = divmod(index, cols)
        grid[:, r * (height + 1):r * (height + 1) + height, c * (width + 1):c * (width + 1) + width] = image
    return grid[0].numpy() if channels == 1 else grid.permute(1, 2, 0).numpy()


def show_grid(ax, images: torch.Tensor, rows: int, trial: pd.Series, generator: TrainedGenerator) -> None:
    """The images as one grid in `ax` (gid: the data set), titled with the trial and the generator's step."""
    ax.imshow(image_grid(images, rows), cmap="gray", vmin=0, vmax=1, interpolation="nearest", gid=trial["dataset"])
    ax.set_title(f"{dataset_label(trial['dataset'])}: {model_label(trial['model'])}, trial {trial['trial']}\n"
                 f"step {generator.step} ({generator.metric} {trial['score']:.4g})", fontsize=8)


@register_figure("latent_interpolation", title="Latent interpolation, linear and spherical", caption=CAPTION_INTERPOLATION)
def latent_interpolation_figure(inputs: ReportInputs) -> Figure:
    import torch

    fig, panels = generator_panels(inputs, conditional=False, panel_height=1.9)
    t = torch.linspace(0, 1, STEPS)
    for ax, trial, generator in panels:
        z0, z1 = generator.latents(2, LATENT_SEED)
        images = generator(torch.cat([lerp(z0, z1, t), slerp(z0, z1, t)]))
        show_grid(ax, images, 2, trial, generator)
        ax.set_xticks([])
        height = images.shape[2]
        ax.set_yticks([height / 2, height * 1.5 + 1], ["linear", "spherical"])
    fig.suptitle("Latent interpolation z₀ → z₁")
    return fig


@register_figure("latent_classes", title="One latent across all classes", caption=CAPTION_CLASSES)
def latent_classes_figure(inputs: ReportInputs) -> Figure:
    import torch

    fig, panels = generator_panels(inputs, conditional=True, panel_height=2.4)
    for ax, trial, generator in panels:
        k = generator.num_classes
        z = generator.latents(ROWS_PER_CLASS_FIGURE, LATENT_SEED).repeat_interleave(k, dim=0)
        labels = torch.arange(k).repeat(ROWS_PER_CLASS_FIGURE)
        images = generator(z, labels)
        show_grid(ax, images, ROWS_PER_CLASS_FIGURE, trial, generator)
        width = images.shape[3]
        ax.set_xticks([c * (width + 1) + width / 2 for c in range(k)], [str(c) for c in range(k)])
        ax.set_yticks([])
        ax.set(xlabel="class")
    fig.suptitle("The same latent (rows) across all classes (columns)")
    return fig
