"""A trial whose run folder holds a run of another protocol fails with that message as its reason, no traceback."""
from __future__ import annotations

from optuna.trial import TrialState

from gan_study.launch.debug import DebugExecutor
from gan_study.launch.sweep import run_sweep
from gan_study.launch.sweep_plans import build_plans
from gan_study.study.train.run_folder import RunFolder
from sweep_testkit import study_of, sweep_config


def test_a_trial_refuses_a_run_folder_of_another_protocol_with_a_clear_reason(tmp_path):
    cfg = sweep_config(f"journal:{tmp_path / 'gan.journal'}", tmp_path / "runs", "n_trials=1", "dataset=triangles",
                       "train=tiny", f"data_root={tmp_path / 'data'}")
    plan = build_plans(cfg, None)[0]
    entry = plan.trials[0]
    config = plan.config(entry.values, entry.seed)
    folder = RunFolder(tmp_path / "runs" / plan.name / "0")
    folder.create({**config, "model": {**config["model"], "lr": 0.5}})  # left there by another protocol's run

    run_sweep(cfg, executor=DebugExecutor())  # the real trainer
    (trial,) = study_of(cfg).get_trials()
    assert trial.state == TrialState.FAIL and trial.user_attrs["status"] == "failed"
    reason = trial.user_attrs["reason"]
    assert reason.startswith(f"run_dir = '{folder.root}' holds a run made under another protocol configuration")
    assert f"model.lr: 0.5 -> {config['model']['lr']!r}" in reason and "Traceback" not in reason
    assert sorted(p.name for p in folder.root.iterdir()) == ["config.yaml", "samples"]  # nothing trained
    assert not (tmp_path / "data").exists()
