"""Generated samples beside their 3 nearest training images (as Shmelkov et al.'s nearest-neighbour figure), for each
model's best trial, read from the run folders' `measures/memorisation.npz`."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gan_study.analysis.figures.prd import best_trials_with
from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import dataset_label, model_label, ordered_datasets, ordered_models, panel_matrix

CAPTION = ("Memorisation check (eval.metrics.fid.measures.memorisation) at the last evaluation of each model's trial "
           "with the best {metric}: the generated samples closest to the training set (left column) beside their 3 "
           "nearest training images in the FID pass's feature space, with distances. The score is the Mann-Whitney Z "
           "of generated vs held-out real images' nearest-training distances (Meehan et al. 2020); flagged when below "
           "-threshold: samples sit closer to the training set than unseen real images do.")
ROWS_PER_TRIAL = 4


def as_picture(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [0, 1] -> what imshow draws: (H, W) for grey, (H, W, 3) for colour."""
    return image[0] if image.shape[0] == 1 else np.transpose(image, (1, 2, 0))


@register_figure("memorisation_neighbours", title="Samples beside their nearest training images", caption=CAPTION)
def memorisation_figure(inputs: ReportInputs) -> Figure:
    shown = best_trials_with(inputs, "memorisation.npz")
    if shown.empty:
        raise FigureSkipped("no completed trial's run folder holds measures/memorisation.npz "
                            "(eval.metrics.fid.measures.memorisation)")
    blocks = [(dataset, model, shown[(shown["dataset"] == dataset) & (shown["model"] == model)].iloc[0])
              for dataset in ordered_datasets(shown["dataset"])
              for model in ordered_models(shown.loc[shown["dataset"] == dataset, "model"])]
    loaded = [np.load(trial["artefact"]) for _, _, trial in blocks]
    rows = sum(min(ROWS_PER_TRIAL, len(data["samples"])) for data in loaded)
    fig, axes = panel_matrix(rows, 4, panel_size=(1.3, 1.4))
    row = 0
    for (dataset, model, trial), data in zip(blocks, loaded):
        count = min(ROWS_PER_TRIAL, len(data["samples"]))
        verdict = "FLAGGED" if bool(data["flagged"]) else "not flagged"
        for i in range(count):
            ax_row = axes[row + i]
            pictures = [data["samples"][i]] + list(data["neighbours"][i])
            for column, (ax, picture) in enumerate(zip(ax_row, pictures)):
                ax.imshow(as_picture(picture), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if column == 0:
                    ax.set_xlabel(f"d = {float(data['sample_distances'][i]):.3g}", fontsize=6)
            if i == 0:
                ax_row[0].set_title(f"{model_label(model)}, {dataset_label(dataset)} (trial {trial['trial']}): "
                                    f"Z = {float(data['score']):.1f}, {verdict}", fontsize=7, loc="left")
        row += count
    fig.suptitle("Samples (left), their 3 nearest\ntraining images (features)", fontsize=9)
    return fig
