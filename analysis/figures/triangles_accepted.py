"""What the Triangles precision/recall threshold accepts and rejects: for each model's best Triangles trial, the most
and least precise generated samples and the best and worst reproduced test triangles, each with its distance, read
from the run folders' `measures/triangles_pr.npz`."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gan_study.analysis.figures.memorisation import as_picture
from gan_study.analysis.figures.prd import best_trials_with
from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import model_label, ordered_models

DATASET = "triangles"
PER_END = 4
"""Images shown at each end (best, worst) of each row."""
SIDES = {"precision": ("generated samples", "most precise", "least precise"),
         "recall": ("test triangles", "best reproduced by G", "worst reproduced by G")}
CAPTION = ("Triangles precision/recall (eval.metrics.triangles_pr) at the last evaluation of each model's trial "
           "with the best {metric}. Precision rows: the generated samples nearest to (left) and farthest from (right) "
           "the triangle manifold; recall rows: the test triangles the generator reproduces best and worst. Under each "
           "image: its distance (sum over 784 pixels of squared differences) and whether it falls below the threshold "
           "delta (accepted) or not (rejected); delta is printed in each row's title (paper value 0.75).")


def verdict(distance: float, delta: float) -> str:
    return "accepted" if distance < delta else "rejected"


@register_figure("triangles_accepted", title="What Triangles precision and recall accept and reject", caption=CAPTION)
def triangles_accepted_figure(inputs: ReportInputs) -> Figure:
    shown = best_trials_with(inputs, "triangles_pr.npz")
    shown = shown[shown["dataset"] == DATASET]
    if shown.empty:
        raise FigureSkipped("no completed Triangles trial's run folder holds measures/triangles_pr.npz "
                            "(eval.metrics.triangles_pr, written at each evaluation)")
    rows = []
    for model in ordered_models(shown["model"]):
        trial = shown[shown["model"] == model].iloc[0]
        data = np.load(trial["artefact"])
        rows += [(model, trial, data, side) for side in SIDES if f"{side}_best_distances" in data]
    columns = 2 * min(PER_END, max(len(data[f"{side}_best_distances"]) for _, _, data, side in rows))
    fig = plt.figure(figsize=(1.0 * columns, 1.55 * len(rows)), layout="constrained")
    for band, (model, trial, data, side) in zip(np.atleast_1d(fig.subfigures(len(rows), 1)), rows):
        ax_row = band.subplots(1, columns, squeeze=False)[0]
        delta = float(data["delta"])
        what, best, worst = SIDES[side]
        count = columns // 2
        images = list(data[f"{side}_best_images"][:count]) + list(data[f"{side}_worst_images"][-count:])
        distances = list(data[f"{side}_best_distances"][:count]) + list(data[f"{side}_worst_distances"][-count:])
        for ax, image, distance in zip(ax_row, images, distances):
            ax.imshow(as_picture(image), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f"d = {float(distance):.3g}\n{verdict(float(distance), delta)}", fontsize=6)
        for ax in ax_row[len(images):]:
            ax.axis("off")
        band.suptitle(f"{model_label(model)} (trial {trial['trial']}), {side}, delta = {delta:g}: {what}, "
                      f"{best} (left), {worst} (right)", fontsize=7, x=0.01, ha="left")
    fig.suptitle("Triangles: what precision and recall accept and reject", fontsize=9)
    return fig
