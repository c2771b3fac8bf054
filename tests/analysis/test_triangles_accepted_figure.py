"""The Triangles accepted/rejected figure shows, per model, the saved extremes with their distances and verdicts."""
from __future__ import annotations

import numpy as np
import pytest
from measure_artefacts import write_triangles_artefact
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, draw_figure
from gan_study.analysis.inputs import ReportInputs


@pytest.fixture
def inputs(tmp_path) -> ReportInputs:
    """ns_gan: trial 1 is the best (FID 10); its last 4 samples carry noise of amplitude 0.3 (rejected)."""
    trials = trial_rows("s", "ns_gan", "triangles", "wide", [30.0, 10.0, 20.0])
    trials["run_dir"] = [str(tmp_path / f"run{t}") for t in trials.trial]
    for trial, shift in ((1, 3.0), (2, 0.0)):
        write_triangles_artefact(tmp_path / f"run{trial}", shift)
    return ReportInputs(tables_of((trials, evaluation_rows(trials))))


def test_rows_show_the_best_trials_extremes_with_distances_and_verdicts(inputs, tmp_path):
    figure = draw_figure("triangles_accepted", inputs)
    saved = np.load(tmp_path / "run1" / "measures" / "triangles_pr.npz")
    panels = [ax for ax in figure.axes if ax.images]
    assert len(panels) == 2 * 6  # precision and recall rows, 3 best + 3 worst each
    precision = panels[:6]
    expected = list(saved["precision_best_distances"]) + list(saved["precision_worst_distances"])
    labels = [ax.get_xlabel() for ax in precision]
    assert labels == [f"d = {d:.3g}\n{'accepted' if d < 0.75 else 'rejected'}" for d in expected]
    assert labels[0] == "d = 0\naccepted" and labels[-1].endswith("rejected")  # exact triangle vs noisy one
    assert np.array_equal(precision[-1].images[0].get_array(), saved["precision_worst_images"][-1][0])
    titles = [band.get_suptitle() for band in figure.subfigs]
    assert titles == ["NS GAN (trial 1), precision, delta = 0.75: generated samples, most precise (left), "
                      "least precise (right)",
                      "NS GAN (trial 1), recall, delta = 0.75: test triangles, best reproduced by G (left), "
                      "worst reproduced by G (right)"]


def test_skipped_with_the_reason_when_no_run_folder_holds_it(inputs):
    trials = inputs.tables.trials.assign(run_dir="/nonexistent/run")
    absent = ReportInputs(type(inputs.tables)(trials, inputs.tables.evaluations, ["<synthetic>"]))
    with pytest.raises(FigureSkipped, match="measures/triangles_pr.npz"):
        draw_figure("triangles_accepted", absent)
