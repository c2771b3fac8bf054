"""One look for every figure: a fixed colour and label per model, panel grids, legends outside the data.

Known models and data sets have fixed colours, labels and order (the paper's); a name never seen
before (a user's new loss) gets a colour of its own and sorts after them, so it appears in every figure without
touching this file: the same in every report, and never one another model of the report has (`ModelPalette`).
"""
from __future__ import annotations

import colorsys
import itertools
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never a display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from gan_study.analysis.scores import metric_family  # noqa: E402

MODEL_ORDER = ("mm_gan", "ns_gan", "lsgan", "wgan", "wgan_gp", "dragan", "began", "vae")
MODEL_LABELS = {"mm_gan": "MM GAN", "ns_gan": "NS GAN", "lsgan": "LSGAN", "wgan": "WGAN", "wgan_gp": "WGAN GP",
                "dragan": "DRAGAN", "began": "BEGAN", "vae": "VAE"}
MODEL_COLORS = {"mm_gan": "#1f77b4", "ns_gan": "#ff7f0e", "lsgan": "#2ca02c", "wgan": "#d62728",
                "wgan_gp": "#9467bd", "dragan": "#8c564b", "began": "#e377c2", "vae": "#7f7f7f"}
NEW_MODEL_COLORS = ("#bcbd22", "#17becf", "#1717cf", "#000000", "#e830e8", "#8cf2b5", "#f2bf8c", "#5e6619",
                    "#0d0d73", "#730d4a", "#30e830", "#0d7354")
"""Picked greedily for distance (CIELAB ΔE >= 37) from the built-ins' colours and each other."""
DATASET_ORDER = ("mnist", "fashion_mnist", "cifar10", "celeba", "triangles")
DATASET_LABELS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR10", "celeba": "CelebA",
                  "triangles": "Triangles"}
METRIC_LABELS = {"fid": "FID", "kid": "KID", "is": "IS", "inception_score": "Inception score",
                 "precision": "precision", "recall": "recall", "f1": "F1", "gan_train": "GAN-train",
                 "gan_test": "GAN-test", "gan_train_test_hmean": "GAN-train/test harmonic mean",
                 "real_accuracy": "real-data accuracy", "improved_precision": "improved precision",
                 "improved_recall": "improved recall", "prd_f8": "PRD F8", "prd_f1_8": "PRD F1/8",
                 "memorisation_score": "memorisation Z", "memorisation_flag": "memorisation flag",
                 "swd_avg": "SWD (mean of levels)"}
PARAM_LABELS = {"lr": "learning rate", "learning_rate": "learning rate", "beta1": "Adam β1",
                "n_disc": "n_disc (D steps per G step)", "disc_iters": "n_disc (D steps per G step)"}

STYLE = {
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
    "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False, "figure.titlesize": 11,
}
DIVERGED_MARKER = {"marker": "x", "color": "#c00000", "linestyle": "none", "markersize": 6, "markeredgewidth": 1.5}


def _new_colors() -> Iterator[str]:
    """NEW_MODEL_COLORS, then golden-angle hues at alternating lightness: as many as there are models."""
    yield from NEW_MODEL_COLORS
    for index in itertools.count():
        red, green, blue = colorsys.hls_to_rgb(index * 0.618034 % 1.0, (0.3, 0.5, 0.7)[index % 3], 0.7)
        yield f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


class ModelPalette:
    """The colours of one report's models: a built-in's fixed colour; a new model's, from the slot its name picks
    (crc32, the same in every process), the first colour no model of the report has yet (first come, first served)."""

    def __init__(self) -> None:
        self.assigned: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name in MODEL_COLORS:
            return MODEL_COLORS[name]
        if name not in self.assigned:
            taken = {*MODEL_COLORS.values(), *self.assigned.values()}
            start = zlib.crc32(name.encode()) % len(NEW_MODEL_COLORS)
            preferred = itertools.chain(NEW_MODEL_COLORS[start:], _new_colors())
            self.assigned[name] = next(color for color in preferred if color not in taken)
        return self.assigned[name]


model_color = ModelPalette()
"""The process's palette: one gan-report is one process, so one report."""


def model_label(name: str) -> str:
    return MODEL_LABELS.get(name, name)


def dataset_label(name: str) -> str:
    return DATASET_LABELS.get(name, name)


def metric_label(name: str) -> str:
    family = metric_family(name)
    label = METRIC_LABELS.get(family, name)
    return label if family == name else f"{label} ({name.split('_', 1)[1].replace('_', ' ')})"


def param_label(name: str) -> str:
    return PARAM_LABELS.get(name.rsplit(".", 1)[-1], name)


def _ordered(names: Iterable[str], order: tuple[str, ...]) -> list[str]:
    unique = set(names)
    return [n for n in order if n in unique] + sorted(unique - set(order))


def ordered_models(names: Iterable[str]) -> list[str]:
    """The paper's model order, then new models alphabetically."""
    return _ordered(names, MODEL_ORDER)


def ordered_datasets(names: Iterable[str]) -> list[str]:
    return _ordered(names, DATASET_ORDER)


def panel_matrix(rows: int, columns: int, panel_size: tuple[float, float] = (3.8, 3.0)):
    """A rows × columns array of panels with room for a legend outside (constrained layout)."""
    return plt.subplots(rows, columns, figsize=(panel_size[0] * columns, panel_size[1] * rows), squeeze=False,
                        layout="constrained")


def panel_grid(n_panels: int, panel_size: tuple[float, float] = (3.8, 3.0),
               max_columns: int = 3) -> tuple[Figure, list[plt.Axes]]:
    """A figure with n panels in rows of at most `max_columns`; unused cells are removed."""
    columns = max(1, min(n_panels, max_columns))
    fig, axes = panel_matrix(-(-n_panels // columns), columns, panel_size)
    flat = list(axes.ravel())
    for extra in flat[n_panels:]:
        extra.remove()
    return fig, flat[:n_panels]


def dataset_panels(frame: pd.DataFrame, panel_size: tuple[float, float] = (3.8, 3.0)
                   ) -> tuple[Figure, list[tuple[plt.Axes, str, pd.DataFrame]]]:
    """One panel per data set of `frame`, in the study's order, each with that data set's rows."""
    datasets = ordered_datasets(frame["dataset"])
    fig, axes = panel_grid(len(datasets), panel_size)
    return fig, [(ax, dataset, frame[frame["dataset"] == dataset]) for ax, dataset in zip(axes, datasets)]


def model_handles(models: Iterable[str], **line) -> list[Line2D]:
    return [Line2D([], [], color=model_color(m), label=model_label(m), **({"linewidth": 2} | line)) for m in models]


def legend_outside(fig: Figure, handles: list, title: str | None = None) -> None:
    """One legend for the whole figure, to the right of every panel, never over data."""
    fig.legend(handles=handles, loc="outside right center", title=title, frameon=False)


def save_figure(fig: Figure, folder: Path, name: str) -> dict[str, Path]:
    """PNG (for the page) and PDF (for papers), same content."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / f"{name}.{fmt}" for fmt in ("png", "pdf")}
    for path in paths.values():
        fig.savefig(path, bbox_inches="tight", dpi=STYLE["savefig.dpi"])
    return paths


def use_log_scale(values: Iterable[float], metric: str) -> bool:
    """Log axes for distance-like scores (FID, KID) spread over more than a factor of 3."""
    finite = [v for v in values if v == v and abs(v) != float("inf")]
    return metric_family(metric) in ("fid", "kid") and bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 3


def plain_log_axis(ax: plt.Axes, which: str = "y") -> None:
    """Log scale with plain-number labels (10, 20, 50 rather than 10^1): readable, and fast to draw."""
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    # Scores often span less than a decade: label some minor ticks on y. Hyperparameters span decades: x needs none.
    axis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)) if which == "y"
                             else ticker.NullFormatter())


def set_score_axis(ax: plt.Axes, values: Iterable[float], metric: str, label: str) -> None:
    ax.set_ylabel(label)
    if use_log_scale(list(values), metric):
        plain_log_axis(ax)
