"""A diverged run keeps the evaluations it made (the paper's code, docs/protocol.md#run-score), or loses (`diverged: worst`).

Unit cases of the rule, then a real training run made to diverge (a NaN generator loss at step 5) after two
finite evaluations: its score must be the best of those two in Optuna, the exported table, the budget curves and
the seed phase's choice; with the strict rule, ±inf everywhere.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState, create_trial

from sweep_testkit import compose_sweep, study_of
from gan_study.analysis.load import tidy_trials
from gan_study.analysis.scores import BudgetOptions, ScoreSpec, budget_frame, trial_scores
from gan_study.launch.debug import DebugExecutor
from gan_study.launch.sweep import run_sweep
from gan_study.launch.sweep_plans import build_plans
from gan_study.study.config import ConfigError
from gan_study.study.search.objective import Objective, resolve_objective
from gan_study.study.search.plan import best_trial
from gan_study.study.search.results import export_trials
from gan_study.study.search.storage import open_storage
from gan_study.study.search.study import STUDY_ATTR, StudyMismatch, create_or_open
from tests.faulty_losses import register_faulty_ns_gan

DIVERGED = {"status": "diverged", "reason": "loss_g is nan at step 5", "best": {"fid": 40.0}, "final": {"fid": 55.0}}


@pytest.mark.parametrize(("rule", "reduce", "direction", "expected"), [
    ("keep", "best", "minimize", 40.0),           # the paper: min over the finite checkpoints
    ("keep", "final", "minimize", math.inf),      # its last checkpoint is the divergence itself
    ("worst", "best", "minimize", math.inf),      # strict: it lost
    ("worst", "best", "maximize", -math.inf),
    ("keep", "best", "maximize", 40.0),
])
def test_a_diverged_record_is_scored_by_the_rule(rule, reduce, direction, expected):
    assert Objective("fid", reduce, direction, rule).diverged_value(DIVERGED) == expected


def test_a_run_that_diverged_before_measuring_anything_loses_under_either_rule():
    for rule in ("keep", "worst"):
        assert Objective("fid", diverged=rule).diverged_value({"status": "diverged", "best": {}}) == math.inf
        assert Objective("f1", direction="maximize", diverged=rule).diverged_value({"best": {"f1": math.nan}}) == -math.inf


def test_the_rule_is_validated_and_defaults_to_the_paper():
    assert resolve_objective({"metric": "precision"}, {"triangles_pr": {}}).diverged == "keep"
    assert resolve_objective({"metric": "precision", "diverged": "worst"}, {"triangles_pr": {}}).diverged == "worst"
    with pytest.raises(ConfigError, match=r"objective.diverged = 'inf' is not allowed: one of \['keep', 'worst'\]"):
        resolve_objective({"metric": "precision", "diverged": "inf"}, {"triangles_pr": {}})
    # a study stored before the rule existed scored its diverged runs +inf: that is the rule it follows
    assert Objective.stored({"metric": "fid", "reduce": "best", "direction": "minimize"}).diverged == "worst"


def _trial(number: int, value: float | None, status: str, state=TrialState.COMPLETE) -> optuna.trial.FrozenTrial:
    return create_trial(state=state, value=value, user_attrs={"status": status})


def test_the_seed_phase_choice_takes_a_diverged_run_by_its_finite_objective():
    trials = [_trial(0, 50.0, "completed"), _trial(1, 30.0, "diverged"), _trial(2, math.inf, "diverged"),
              _trial(3, None, "failed", TrialState.FAIL)]
    for number, trial in enumerate(trials):
        trial.number = number
    assert best_trial("s", trials, Objective("fid")).number == 1
    with pytest.raises(ConfigError, match="no finished trial with a finite best_fid"):
        best_trial("s", [trials[2], trials[3]], Objective("fid"))


def test_analysis_scores_follow_each_trials_rule():
    table = pd.DataFrame({"status": ["completed", "diverged", "diverged", "diverged", "failed"],
                          "diverged_rule": ["keep", "keep", "worst", "keep", "keep"],
                          "best_fid": [20.0, 15.0, 15.0, np.nan, np.nan], "final_fid": [20.0, 18.0, 18.0, np.nan, np.nan]})
    best = trial_scores(table, ScoreSpec("fid", "best")).tolist()
    assert best[:4] == [20.0, 15.0, np.inf, np.inf] and math.isnan(best[4])
    assert trial_scores(table, ScoreSpec("fid", "final")).tolist()[:4] == [20.0, np.inf, np.inf, np.inf]
    older = table.drop(columns="diverged_rule")  # a table exported before the rule existed: strict
    assert trial_scores(older, ScoreSpec("fid", "best")).tolist()[:2] == [20.0, np.inf]


# -- a real run made to diverge ------------------------------------------------------------------------------

METRIC = "precision_median_distance"


# NS GAN (n_disc = 1: one G step per step) whose generator loss is NaN from its 5th call on: real training with
# finite evaluations at steps 2 and 4, then a divergence at step 5.
register_faulty_ns_gan("test_nan_at_fifth_generator_step", loss="generator_loss", on_call=5, add=math.nan,
                       from_then_on=True)


def _sweep(tmp_path: Path, data_root: Path, rule: str, name: str, *overrides: str):
    return compose_sweep([f"storage.url=journal:{tmp_path / 'gan.journal'}", f"runs_root={tmp_path / 'runs'}",
                          f"study_name={name}", "model=ns_gan", "dataset=triangles", "train=tiny",
                          f"data_root={data_root}", "model.name=test_nan_at_fifth_generator_step",
                          "model.loss_params={}", "train.eval_every_steps=2",
                          "train.sample_grid=0", "eval=none", "n_trials=1", "poll_s=0.05", "progress_every_s=0",
                          "+eval.metrics.triangles_pr={n:64,recall_restarts:1,recall_pool:64,recall_steps:2}",
                          f"objective.metric={METRIC}", f"objective.diverged={rule}", *overrides])


@pytest.mark.parametrize("rule", ["keep", "worst"])
def test_a_real_diverged_run_keeps_its_best_evaluation_everywhere(rule, tmp_path, data_root):
    cfg = _sweep(tmp_path, data_root, rule, "diverging")
    run_sweep(cfg, executor=DebugExecutor())  # the real trainer, in this process
    (trial,) = study_of(cfg).get_trials()
    assert trial.user_attrs["status"] == "diverged" and trial.user_attrs["steps"] == 5
    assert trial.user_attrs["reason"] == "loss_g is nan at step 5"
    with (Path(trial.user_attrs["run_dir"]) / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [2, 4]
    evaluations = [float(r[METRIC]) for r in rows]
    assert all(math.isfinite(v) for v in evaluations) and evaluations[0] != evaluations[1]
    expected = min(evaluations) if rule == "keep" else math.inf

    assert trial.value == expected  # Optuna
    trials, _ = export_trials(str(cfg.storage.url), cfg.study_name)  # the exported table
    assert trials.loc[0, "objective"] == expected and trials.loc[0, "diverged_rule"] == rule
    assert trials.loc[0, f"best_{METRIC}"] == min(evaluations)  # the run's own measurements, under either rule

    tidy = tidy_trials(trials)
    spec = ScoreSpec(METRIC, "best", "minimize")
    assert trial_scores(tidy, spec).tolist() == [expected]
    curve = budget_frame(tidy, spec, BudgetOptions(method="exact")).iloc[0]  # the budget curves
    assert curve["n_diverged"] == 1 and curve["n_trials"] == 1
    if rule == "keep":
        assert curve["mean"] == expected and curve["p_all_diverged"] == 0.0
    else:
        assert math.isnan(curve["mean"]) and curve["p_all_diverged"] == 1.0

    seeds = _sweep(tmp_path, data_root, rule, "seeds", "experiment=seeds", "n_seeds=2", "source_study=diverging")
    if rule == "keep":  # the seed phase takes the diverged run's configuration by its best evaluation
        (plan,) = build_plans(seeds, None)
        assert plan.spec.source == {"study": "diverging", "trial": 0, f"best_{METRIC}": expected}
    else:
        with pytest.raises(ConfigError, match="no finished trial with a finite"):
            build_plans(seeds, None)


def test_a_study_made_before_the_rule_reopens_only_under_the_strict_rule(tmp_path, data_root):
    """Its stored values scored diverged runs +inf: re-opening it under `keep` would mix two rules in one study."""
    (plan,) = build_plans(_sweep(tmp_path, data_root, "keep", "older"), None)
    identity = plan.spec.identity()
    del identity["objective"]["diverged"]  # as gan-sweep stored it before the rule existed
    optuna.create_study(storage=open_storage(plan.storage_url), study_name="older").set_user_attr(STUDY_ATTR, identity)
    with pytest.raises(StudyMismatch, match=r"objective\.diverged: stored 'worst', requested 'keep'"):
        create_or_open(plan.storage_url, plan.spec)
    (strict,) = build_plans(_sweep(tmp_path, data_root, "worst", "older"), None)
    assert create_or_open(plan.storage_url, strict.spec).study_name == "older"
