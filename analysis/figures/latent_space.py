"""Latent space figures of trained runs: interpolation between two latents (linear and spherical), and for
class-conditional runs the same latents drawn as every class ("arithmetic in the latent space").

Each data set's best completed trial (by the report's score) whose run folder holds a generator is shown: the
generator of its best evaluation of that score (generators/, record.json), else its latest one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from omegaconf import OmegaConf

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import budget_trials
from gan_study.analysis.style import dataset_label, model_label, ordered_datasets, panel_grid

STEPS = 8
"""Images per interpolation row, endpoints included."""
LATENT_SEED = 0
"""The seed of the latents drawn (from each run's own prior)."""
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
    cosine = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cosine.clamp(-1.0, 1.0))
    if torch.sin(omega).abs() < 1e-6:
        return lerp(z0, z1, t)
    weights = torch.stack([torch.sin((1 - t) * omega), torch.sin(t * omega)], dim=1) / torch.sin(omega)
    return weights[:, :1] * z0 + weights[:, 1:] * z1


class TrainedGenerator:
    """A run folder's generator in eval mode on the CPU, with its prior and its number of classes (None: unconditional)."""

    def __init__(self, path: Path, metric: str):
        from gan_study.study.config import build_loss, validate
        from gan_study.study.train.run import make_prior

        self.file = path
        state = torch.load(path, map_location="cpu", weights_only=False)
        cfg = validate(OmegaConf.create(state["config"]), check_files=False)
        loss = build_loss(cfg)
        nets = loss.build_networks(tuple(cfg.dataset.image_shape), cfg.train.z_dim,
                                   cfg.model.discriminator_batchnorm, cfg.model.generator_activation)
        self.network = nets.generator.eval()
        self.network.load_state_dict(state["generator"])
        self.step, self.metric = int(state["step"]), metric
        self.num_classes: int | None = getattr(loss, "num_classes", None)
        self.sample_z = make_prior(loss.prior, cfg.train.z_dim, torch.device("cpu"))

    def latents(self, n: int) -> torch.Tensor:
        return self.sample_z(n, torch.Generator().manual_seed(LATENT_SEED))

    @torch.no_grad()
    def __call__(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes is None:
            return self.network(z)
        return self.network(z, torch.zeros(len(z), dtype=torch.long) if labels is None else labels)


def generator_file(run_dir: Any, metric: str) -> Path | None:
    """The generator of the run's best `metric` evaluation if kept, else its latest; None when there is none here."""
    from gan_study.study.train.checkpoint import generator_path, last_generator
    from gan_study.study.train.record import RunRecord

    if not isinstance(run_dir, str) or not run_dir or not Path(run_dir).is_dir():
        return None
    folder = Path(run_dir)
    record = folder / "record.json"
    if record.exists():
        step = RunRecord.read(record).best_step.get(metric)
        if step is not None and generator_path(folder / "generators", int(step)).exists():
            return generator_path(folder / "generators", int(step))
    latest = last_generator(folder)
    return latest if latest.exists() else None


def best_generators(inputs: ReportInputs, conditional: bool) -> list[tuple[pd.Series, TrainedGenerator]]:
    """Per data set (paper order): its best completed trial with a generator here (conditional ones if asked)."""
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


def image_grid(images: torch.Tensor, rows: int) -> np.ndarray:
    """(rows·cols, C, H, W) in [0, 1] -> one (rows·(H+1)−1, cols·(W+1)−1[, 3]) array, 1-pixel white gutters."""
    n, channels, height, width = images.shape
    cols = n // rows
    grid = torch.ones(channels, rows * (height + 1) - 1, cols * (width + 1) - 1)
    for index, image in enumerate(images.clamp(0, 1)):
        r, c = divmod(index, cols)
        grid[:, r * (height + 1):r * (height + 1) + height, c * (width + 1):c * (width + 1) + width] = image
    return grid[0].numpy() if channels == 1 else grid.permute(1, 2, 0).numpy()


def panel_title(trial: pd.Series, generator: TrainedGenerator) -> str:
    return (f"{dataset_label(trial['dataset'])}: {model_label(trial['model'])}, trial {trial['trial']}\n"
            f"step {generator.step} ({generator.metric} {trial['score']:.4g})")


@register_figure("latent_interpolation", title="Latent interpolation, linear and spherical", caption=CAPTION_INTERPOLATION)
def latent_interpolation_figure(inputs: ReportInputs) -> Figure:
    chosen = best_generators(inputs, conditional=False)
    if not chosen:
        raise FigureSkipped("no completed trial's run folder with a kept generator (generators/ or checkpoint.pt) "
                            "is readable from here")
    fig, axes = panel_grid(len(chosen), panel_size=(4.8, 1.9), max_columns=1)
    t = torch.linspace(0, 1, STEPS)
    for ax, (trial, generator) in zip(axes, chosen):
        z0, z1 = generator.latents(2)
        images = generator(torch.cat([lerp(z0, z1, t), slerp(z0, z1, t)]))
        ax.imshow(image_grid(images, 2), cmap="gray", vmin=0, vmax=1, interpolation="nearest", gid=trial["dataset"])
        ax.set_xticks([])
        height = images.shape[2]
        ax.set_yticks([height / 2, height * 1.5 + 1], ["linear", "spherical"])
        ax.set_title(panel_title(trial, generator), fontsize=8)
    fig.suptitle("Latent interpolation z₀ → z₁")
    return fig


@register_figure("latent_classes", title="One latent across all classes", caption=CAPTION_CLASSES)
def latent_classes_figure(inputs: ReportInputs) -> Figure:
    chosen = best_generators(inputs, conditional=True)
    if not chosen:
        raise FigureSkipped("no completed class-conditional trial (conditional.enabled=true) with a kept generator "
                            "is readable from here")
    fig, axes = panel_grid(len(chosen), panel_size=(4.8, 2.4), max_columns=1)
    for ax, (trial, generator) in zip(axes, chosen):
        k = generator.num_classes
        z = generator.latents(ROWS_PER_CLASS_FIGURE).repeat_interleave(k, dim=0)
        labels = torch.arange(k).repeat(ROWS_PER_CLASS_FIGURE)
        ax.imshow(image_grid(generator(z, labels), ROWS_PER_CLASS_FIGURE), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest", gid=trial["dataset"])
        width = generator(z[:1], labels[:1]).shape[3]
        ax.set_xticks([c * (width + 1) + width / 2 for c in range(k)], [str(c) for c in range(k)])
        ax.set_yticks([])
        ax.set(xlabel="class")
        ax.set_title(panel_title(trial, generator), fontsize=8)
    fig.suptitle("The same latent (rows) across all classes (columns)")
    return fig
