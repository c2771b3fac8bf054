"""The data-augmentation figure: one curve per (data set, n_real) with the real-only baseline, from the CSV the
augmentation command writes, read as the report reads it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, draw_figure
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.sanity import read_augmentation


@pytest.fixture(scope="module")
def tables():
    trials = trial_rows("s", "ns_gan", "mnist", "wide", [10.0, 12.0])
    return tables_of((trials, evaluation_rows(trials)))


def test_each_panel_is_one_curve_with_its_real_only_baseline(tables, tmp_path):
    path = tmp_path / "augmentation.csv"
    pd.DataFrame({"dataset": ["cifar10"] * 3 + ["mnist"] * 3, "run": "r", "n_real": [500] * 3 + [100] * 3,
                  "ratio": [2.0, 0.0, 1.0, 0.0, 1.0, 4.0], "accuracy": [0.55, 0.5, 0.6, 0.8, 0.85, 0.7]}
                 ).to_csv(path, index=False)
    fig = draw_figure("augmentation_utility", ReportInputs(tables, ReportOptions(),
                                                         augmentation=read_augmentation(path)))
    mnist, cifar = fig.axes[:2]  # the paper's data set order
    assert mnist.get_title() == "MNIST, n_real = 100\nr" and cifar.get_title() == "CIFAR10, n_real = 500\nr"
    for ax, ratios, accuracies, baseline in ((mnist, [0, 1, 4], [0.8, 0.85, 0.7], 0.8),
                                             (cifar, [0, 1, 2], [0.5, 0.6, 0.55], 0.5)):
        curve, line = (next(l for l in ax.lines if l.get_gid() == gid) for gid in ("real + generated", "real only"))
        assert list(curve.get_xdata()) == ratios and list(curve.get_ydata()) == accuracies
        assert list(line.get_ydata()) == [baseline, baseline]
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("generated : real images", "test accuracy")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["real + generated", "real only (ratio 0)"]
    plt.close(fig)


def test_the_figure_is_skipped_without_its_table_and_a_table_without_accuracy_is_named(tables, tmp_path):
    with pytest.raises(FigureSkipped, match="sanity.augmentation"):
        draw_figure("augmentation_utility", ReportInputs(tables, ReportOptions()))
    path = tmp_path / "bad.csv"
    pd.DataFrame({"dataset": ["mnist"], "n_real": [10], "ratio": [0.0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['accuracy'\]"):
        read_augmentation(path)


def test_tsne_draws_real_and_generated_points_of_each_run(tables, tmp_path):
    from gan_study.analysis.sanity import read_tsne

    path = tmp_path / "tsne.csv"
    pd.DataFrame({"dataset": "mnist", "run": "r1", "source": ["real", "real", "generated"], "label": [0, 1, 1],
                  "x": [0.0, 1.0, 2.0], "y": [5.0, 6.0, 7.0]}).to_csv(path, index=False)
    fig = draw_figure("tsne_features", ReportInputs(tables, ReportOptions(), tsne=read_tsne(path)))
    (ax,) = fig.axes
    real, generated = (next(c for c in ax.collections if c.get_gid() == gid) for gid in ("real", "generated"))
    assert real.get_offsets().tolist() == [[0, 5], [1, 6]] and generated.get_offsets().tolist() == [[2, 7]]
    assert ax.get_title() == "MNIST, run r1\n2 real, 1 generated"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["real", "generated"]
    plt.close(fig)
