"""The samples figure shows, per model, the grid of the defaults' trial and of the best trial, read from run folders."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, draw_figure
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.study.train.run_folder import RunFolder


def run_with_grid(root, name: str, grey: float) -> str:
    """A run folder whose samples are two grids (steps 10 and 20); the last one is uniformly `grey`."""
    folder = RunFolder(root / name)
    folder.samples.mkdir(parents=True)
    folder.save_samples(torch.zeros(4, 1, 8, 8), step=10)
    folder.save_samples(torch.full((4, 1, 8, 8), grey), step=20)
    return str(folder.root)


def grey_of(image: np.ndarray) -> float:
    """The grey level of a uniform grid, ignoring the white padding between images."""
    values = image[..., 0] if image.ndim == 3 else image
    return float(np.median(values[values < 0.99]))


@pytest.fixture
def inputs(tmp_path) -> ReportInputs:
    # ns_gan: trial 0 (defaults) FID 30, trial 1 FID 10 (best), trial 2 FID 20. wgan_gp: the defaults are best.
    parts = [trial_rows("s_ns", "ns_gan", "mnist", "wide", [30.0, 10.0, 20.0]),
             trial_rows("s_wg", "wgan_gp", "mnist", "wide", [5.0, 25.0])]
    greys = {("s_ns", 0): 0.2, ("s_ns", 1): 0.4, ("s_ns", 2): 0.6, ("s_wg", 0): 0.8, ("s_wg", 1): 0.1}
    for trials in parts:
        trials["run_dir"] = [run_with_grid(tmp_path, f"{s}-{t}", greys[s, t]) for s, t in zip(trials.study, trials.trial)]
    return ReportInputs(tables_of(*[(t, evaluation_rows(t)) for t in parts]))


def test_each_model_shows_its_defaults_and_its_best_trial_from_the_last_grid(inputs):
    figure = draw_figure("samples", inputs)
    panels = [(ax.get_title(), grey_of(np.asarray(ax.images[0].get_array()))) for ax in figure.axes if ax.images]
    assert [title.splitlines()[1] for title, _ in panels] == ["published defaults: 30", "best, trial 1: 10",
                                                             "published defaults: 5"]
    # the newest grid (step 20, not 10) of trials 0 and 1 of ns_gan, trial 0 of wgan_gp (also its best: shown once)
    assert [grey for _, grey in panels] == pytest.approx([0.2, 0.4, 0.8], abs=1 / 255)


def test_it_is_skipped_when_no_run_folder_is_readable(inputs):
    trials = inputs.tables.trials.assign(run_dir="/nonexistent/run")
    unreadable = ReportInputs(type(inputs.tables)(trials, inputs.tables.evaluations, ["<synthetic>"]))
    with pytest.raises(FigureSkipped, match="no completed trial's run folder"):
        draw_figure("samples", unreadable)


def test_the_best_trial_follows_the_direction_of_the_metric(tmp_path):
    trials = trial_rows("s", "ns_gan", "triangles", "wide", [0.1, 0.7, 0.3], metric="f1", direction="maximize")
    trials["run_dir"] = [run_with_grid(tmp_path, f"t{t}", 0.3 + 0.2 * t) for t in trials.trial]
    inputs = ReportInputs(tables_of((trials, evaluation_rows(trials, ("f1",)))), ReportOptions(metric="f1"))
    titles = [ax.get_title().splitlines()[1] for ax in draw_figure("samples", inputs).axes if ax.images]
    assert titles == ["published defaults: 0.1", "best, trial 1: 0.7"]
