"""The PRD and memorisation figures draw what the measures wrote into each model's best trial's run folder."""
from __future__ import annotations

import json

import numpy as np
import pytest
from measure_artefacts import write_measure_artefacts
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, draw_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import metric_direction
from gan_study.analysis.style import metric_label


@pytest.fixture
def inputs(tmp_path) -> ReportInputs:
    """ns_gan: trial 1 is the best (FID 10) and its curve the closest; trial 0's run folder has no measures."""
    trials = trial_rows("s", "ns_gan", "mnist", "wide", [30.0, 10.0, 20.0])
    trials["run_dir"] = [str(tmp_path / f"run{t}") for t in trials.trial]
    for trial, shift in ((1, 0.0), (2, 3.0)):
        write_measure_artefacts(tmp_path / f"run{trial}", shift)
    return ReportInputs(tables_of((trials, evaluation_rows(trials))))


def test_prd_figure_draws_the_best_trials_saved_curve(inputs, tmp_path):
    figure = draw_figure("prd_curves", inputs)
    (line,) = [line for ax in figure.axes for line in ax.get_lines() if line.get_gid() == "ns_gan"]
    saved = json.loads((tmp_path / "run1" / "measures" / "prd.json").read_text())
    assert np.array_equal(line.get_xdata(), saved["recall"]) and np.array_equal(line.get_ydata(), saved["precision"])
    assert "trial 1" in line.get_label() and "1 runs (200 real vs 200 generated)" in figure.axes[0].get_title()


def test_memorisation_figure_shows_samples_beside_their_training_neighbours(inputs):
    figure = draw_figure("memorisation_neighbours", inputs)
    pictures = [np.asarray(ax.images[0].get_array()) for ax in figure.axes if ax.images]
    assert len(pictures) == 4 * 4  # 4 samples of the best trial, each with its 3 nearest training images
    assert np.array_equal(pictures[0], pictures[1])  # trial 1 replays training images: sample == nearest neighbour
    title = figure.axes[0].get_title(loc="left")
    assert "FLAGGED" in title and "trial 1" in title


def test_both_are_skipped_with_the_reason_when_no_run_folder_holds_them(inputs):
    trials = inputs.tables.trials.assign(run_dir="/nonexistent/run")
    absent = ReportInputs(type(inputs.tables)(trials, inputs.tables.evaluations, ["<synthetic>"]))
    with pytest.raises(FigureSkipped, match="measures/prd.json"):
        draw_figure("prd_curves", absent)
    with pytest.raises(FigureSkipped, match="measures/memorisation.npz"):
        draw_figure("memorisation_neighbours", absent)


def test_the_report_knows_which_way_the_new_values_are_better():
    """A report scored by a measure the studies did not optimise still ranks trials the right way."""
    trials = trial_rows("s", "ns_gan", "mnist", "wide", [30.0, 10.0])
    expected = {"improved_recall": "maximize", "coverage": "maximize", "prd_f8": "maximize", "swd_32": "minimize",
                "memorisation_flag": "minimize", "fid_5k": "minimize"}
    assert {name: metric_direction(trials, name) for name in expected} == expected
    assert metric_label("prd_f1_8") == "PRD F1/8" and metric_label("fid_5k") == "FID (5k)"
