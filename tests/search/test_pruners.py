"""Optuna's pruners on an adaptive study: a trial whose intermediate values are behind is stopped and PRUNED."""
from __future__ import annotations

import numpy as np
import pytest
from optuna.trial import TrialState

from gan_study.launch.debug import DebugExecutor
from gan_study.launch.sweep import run_sweep
from gan_study.study.config import ConfigError
from stand_in_trainers import METRIC, closed_form_fid
from sweep_testkit import study_of, sweep_config

STEPS = (1, 2, 3, 4)


def stepwise_trainer(config: dict, run_dir: str, *, should_stop, on_evaluation) -> dict:
    """Four evaluations, FID = closed form + 4 - step (each trial improves; the trials differ by their values);
    it stops, as the real trainer does, when asked after an evaluation."""
    fid = closed_form_fid(config)
    for step in STEPS:
        on_evaluation({"step": step, METRIC: fid + 4 - step})
        if should_stop():
            return {"status": "interrupted", "steps": step, "runtime_s": 0.01}
    return {"status": "completed", "reason": None, "steps": 4, "runtime_s": 0.01, "best": {METRIC: fid},
            "final": {METRIC: fid}, "seed": config["seed"], "model": config["model"]["name"],
            "dataset": config["dataset"]["name"]}


def expected_prune_step(trial, earlier_complete, n_startup: int) -> int | None:
    """MedianPruner's rule, replayed: the first step at which the trial's best value so far is worse than the
    median of the completed trials' values at that step (once n_startup trials have completed)."""
    if len(earlier_complete) < n_startup:
        return None
    values = trial.intermediate_values
    for step in sorted(values):
        best_so_far = min(values[s] for s in values if s <= step)
        if best_so_far > np.percentile([t.intermediate_values[step] for t in earlier_complete], 50):
            return step
    return None


def test_median_pruner_stops_the_trials_that_are_behind(tmp_path):
    cfg = sweep_config(f"{tmp_path / 'gan.journal'}", tmp_path / "runs", "sampler.name=tpe", "n_trials=10",
                       "pruner.name=median", "+pruner.options.n_startup_trials=2",
                       "+pruner.options.n_warmup_steps=0")
    run_sweep(cfg, executor=DebugExecutor(stepwise_trainer))
    trials = study_of(cfg).get_trials()
    assert len(trials) == 10
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, "no trial was behind the median: the study does not exercise the pruner"
    for trial in trials:  # one after another (launcher=debug): each saw exactly the trials numbered before it
        earlier = [t for t in trials if t.number < trial.number and t.state == TrialState.COMPLETE]
        step = expected_prune_step(trial, earlier, n_startup=2)
        if step is None:
            assert trial.state == TrialState.COMPLETE and sorted(trial.intermediate_values) == list(STEPS)
        else:  # stopped right after the evaluation that put it behind: no further evaluation ran
            assert trial.state == TrialState.PRUNED and max(trial.intermediate_values) == step
            assert trial.user_attrs["status"] == "pruned"
            assert trial.user_attrs["reason"] == f"pruned by MedianPruner after the evaluation at step {step}"


def test_the_papers_random_search_prunes_nothing(tmp_path):
    with pytest.raises(ConfigError, match=r"pruner.name = 'median' is not allowed with sampler.name = 'random'"):
        run_sweep(sweep_config(f"{tmp_path / 'gan.journal'}", tmp_path / "runs", "pruner.name=median"),
                  executor=DebugExecutor(stepwise_trainer))
    with pytest.raises(ConfigError, match=r"pruner.name = 'sometimes' is not allowed: one of"):
        run_sweep(sweep_config(f"{tmp_path / 'gan.journal'}", tmp_path / "runs", "sampler.name=tpe",
                               "pruner.name=sometimes"), executor=DebugExecutor(stepwise_trainer))
