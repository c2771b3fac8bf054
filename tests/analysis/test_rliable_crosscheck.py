"""Cross-data-set aggregates and the probability of improvement against rliable (Agarwal et al. 2021) on the same
scores, and against a loop-by-loop implementation of its definitions written here.

rliable is a test extra. Its point estimates (`rliable.metrics`) need only numpy and scipy and are compared exactly,
in this process. Its intervals and profiles (`rliable.library`) need `arch`: rliable 1.2 pins arch < 8, whose releases
do not import under pandas 3 (TypeError in arch.univariate), and arch 8 changed the bootstrap's keyword arguments
that rliable passes. So rliable.library runs in a reference environment of its own that `make test` builds beside
the project's (.venv-rliable: rliable 1.2, pandas < 3, arch < 8; GAN_STUDY_RLIABLE_PYTHON names another), through
tests/analysis/rliable_reference.py, on the same arrays; the project itself is tested on the pandas it installs."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gan_study.analysis.aggregates import iqm, run_score_profile, stratified_intervals
from gan_study.analysis.verdicts import p_better
from tests.conftest import unavailable

metrics = pytest.importorskip("rliable.metrics")

RNG = np.random.default_rng(7)
SCORES = RNG.beta(2.0, 3.0, size=(10, 3))  # 10 runs × 3 data sets, normalised scores in [0, 1]
TAUS = np.linspace(0.0, 1.0, 11)
REPS = 4000


REFERENCE_SCRIPT = Path(__file__).with_name("rliable_reference.py")
REFERENCE_PYTHON = Path(os.environ.get("GAN_STUDY_RLIABLE_PYTHON",
                                       Path(__file__).parents[2] / ".venv-rliable" / "bin" / "python"))


def rliable_library_estimates(scores: np.ndarray, taus: np.ndarray, reps: int, seed: int) -> dict:
    """rliable.library's IQM interval and performance profile of `scores`, computed in the reference environment."""
    if not REFERENCE_PYTHON.exists():
        unavailable(f"no rliable reference environment at {REFERENCE_PYTHON} (make test builds it)")
    request = {"scores": scores.tolist(), "taus": taus.tolist(), "reps": reps, "seed": seed}
    done = subprocess.run([str(REFERENCE_PYTHON), str(REFERENCE_SCRIPT)], input=json.dumps(request),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"rliable.library failed in {REFERENCE_PYTHON}:\n{done.stderr[-2000:]}"
    return json.loads(done.stdout)


def reference_stratified_bootstrap(scores: np.ndarray, statistic, reps: int, seed: int) -> np.ndarray:
    """rliable's StratifiedBootstrap as its docstring defines it, one resample at a time: the runs of each task
    (column) drawn with replacement within that column; the statistic of each resampled matrix."""
    rng = np.random.default_rng(seed)
    runs, tasks = scores.shape
    replicates = []
    for _ in range(reps):
        resampled = np.column_stack([scores[rng.integers(0, runs, runs), task] for task in range(tasks)])
        replicates.append(statistic(resampled))
    return np.array(replicates)


def test_iqm_equals_rliable():
    assert iqm(SCORES.ravel()) == pytest.approx(metrics.aggregate_iqm(SCORES), abs=1e-15)
    # By hand: 30 scores, 7 cut from each end (int(0.25 * 30)), the mean of the middle 16.
    assert iqm(SCORES.ravel()) == pytest.approx(np.sort(SCORES.ravel())[7:23].mean(), abs=1e-15)


def test_probability_of_improvement_is_p_better_with_one_trial():
    x, y = RNG.normal(0.1, 1.0, 12), RNG.normal(0.0, 1.0, 9)
    x[:3] = y[:3]  # ties count one half in both
    expected = metrics.probability_of_improvement(x[:, None], y[:, None])
    assert p_better(x, y, 1, minimize=False) == pytest.approx(expected, abs=1e-12)


def test_profile_is_the_share_of_runs_above_tau():
    # rliable's run_score_deviation: np.mean(scores > tau) over the whole (runs × tasks) matrix.
    expected = [np.mean(SCORES > tau) for tau in TAUS]
    np.testing.assert_allclose(run_score_profile(list(SCORES.T), TAUS), expected, atol=1e-15)


def test_stratified_intervals_agree_with_a_loop_by_loop_bootstrap():
    ours = stratified_intervals(list(SCORES.T), TAUS, resamples=REPS, seed=0)
    iqm_reference = reference_stratified_bootstrap(SCORES, metrics.aggregate_iqm, REPS, seed=1)
    np.testing.assert_allclose([ours["iqm_lower"][0], ours["iqm_upper"][0]],
                               np.quantile(iqm_reference, [0.025, 0.975]), atol=0.01)
    profile_reference = reference_stratified_bootstrap(SCORES, lambda s: (s[..., None] > TAUS).mean(axis=(0, 1)),
                                                       REPS, seed=1)
    np.testing.assert_allclose(ours["profile_lower"], np.quantile(profile_reference, 0.025, axis=0), atol=0.04)
    np.testing.assert_allclose(ours["profile_upper"], np.quantile(profile_reference, 0.975, axis=0), atol=0.04)


def test_against_rliable_library():
    reference = rliable_library_estimates(SCORES, TAUS, REPS, seed=0)
    ours = stratified_intervals(list(SCORES.T), TAUS, resamples=REPS, seed=0)
    assert ours["iqm"][0] == pytest.approx(reference["iqm"], abs=1e-15)
    np.testing.assert_allclose([ours["iqm_lower"][0], ours["iqm_upper"][0]], reference["iqm_interval"], atol=0.01)
    np.testing.assert_allclose(ours["profile"], reference["profile"], atol=1e-15)
    np.testing.assert_allclose(ours["profile_lower"], reference["profile_interval"][0], atol=0.04)
    np.testing.assert_allclose(ours["profile_upper"], reference["profile_interval"][1], atol=0.04)
