"""t-SNE of the GAN-test classifier's features of real and generated images (Shmelkov et al.'s appendix)."""
from __future__ import annotations

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gan_study.analysis.figures.registry import given_table, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import dataset_label, legend_outside, ordered_datasets, panel_grid

CAPTION = ("t-SNE (python -m gan_study.study.cli.tsne) of the real-data classifier's features (the input of its last "
           "layer) of n real reference images (dots) and n generated images (crosses) of one run, embedded together; "
           "colour: the class (requested for a class-conditional run, else predicted). Generated images that fall "
           "inside the real clusters of their class are recognisable; a missing cluster is a dropped mode.")
MARKERS = {"real": "o", "generated": "x"}


@register_figure("tsne_features", title="t-SNE of classifier features, real and generated", caption=CAPTION)
def tsne_figure(inputs: ReportInputs) -> Figure:
    table = given_table(inputs.tsne, "t-SNE", "sanity.tsne", "python -m gan_study.study.cli.tsne")
    groups = [(dataset, run) for dataset in ordered_datasets(table["dataset"])
              for run in dict.fromkeys(table.loc[table["dataset"] == dataset, "run"].astype(str))]
    colours = mpl.colormaps["tab10"]
    fig, axes = panel_grid(len(groups), panel_size=(4.0, 3.8))
    for ax, (dataset, run) in zip(axes, groups):
        rows = table[(table["dataset"] == dataset) & (table["run"].astype(str) == run)]
        for source, marker in MARKERS.items():
            points = rows[rows["source"] == source]
            ax.scatter(points["x"], points["y"], c=[colours(int(k) % 10) for k in points["label"]], marker=marker,
                       s=8, alpha=0.6, linewidths=0.8 if marker == "x" else 0, gid=source)
        counts = rows["source"].value_counts()
        ax.set(xticks=[], yticks=[], title=f"{dataset_label(dataset)}, run {run}\n"
                                           f"{counts.get('real', 0)} real, {counts.get('generated', 0)} generated")
    legend_outside(fig, [Line2D([], [], color="grey", marker=m, linestyle="", label=s) for s, m in MARKERS.items()])
    fig.suptitle("t-SNE of classifier features")
    return fig
