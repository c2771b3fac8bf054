"""The Adam-vs-RMSProp figure: one budget curve per optimiser's search, the numbers of the budget table."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, draw_figure
from gan_study.analysis.inputs import ReportInputs, ReportOptions


def test_each_optimizer_is_one_curve_of_its_searchs_budget_statistics(small_inputs):
    fig = draw_figure("optimizer_budget", small_inputs)
    (ax,) = fig.axes  # WGAN on MNIST only
    assert ax.get_title() == "MNIST, WGAN\nAdam n = 4, RMSProp n = 4"  # of 5 trials each, the last one failed
    spec = small_inputs.spec()
    for optimizer in ("adam", "rmsprop"):
        (line,) = [line for line in ax.lines if line.get_gid() == optimizer]
        curve = small_inputs.budget(spec, f"wide_{optimizer}").sort_values("k")
        assert list(line.get_xdata()) == list(curve["k"]) == [1, 2, 3, 4]
        assert list(line.get_ydata()) == pytest.approx(list(curve["mean"]))
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Adam", "RMSProp"]
    plt.close(fig)


def test_without_optimizer_studies_the_figure_is_skipped():
    trials = trial_rows("s", "wgan", "mnist", "wide", [10.0, 12.0])
    with pytest.raises(FigureSkipped, match="experiment=paper_optimizer"):
        draw_figure("optimizer_budget", ReportInputs(tables_of((trials, evaluation_rows(trials))), ReportOptions()))
