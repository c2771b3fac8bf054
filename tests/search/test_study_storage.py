"""Studies on every storage (journal file, SQLite, PostgreSQL for real): outcomes, resumption, export, workers."""
from __future__ import annotations

import math
from collections import Counter
import pickle
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from gan_study.launch.debug import DebugExecutor
from gan_study.launch.sweep import run_sweep
from gan_study.launch.sweep_plans import build_plans
from gan_study.study.search.plan import StudyPlan
from gan_study.study.search import results
from gan_study.study.search.results import export_trials, write_export
from gan_study.study.search.storage import open_storage
from gan_study.study.search.liveness import Worker
from gan_study.study.search.study import StudyMismatch, create_or_open, ensure_trials
from gan_study.study.search.worker import run_trial
from stand_in_trainers import (METRIC, closed_form_fid, executions, mixed_trainer, once_interrupted_trainer,
                               scored_trainer)
from sweep_testkit import storage_url, study_of, sweep_config

assert storage_url  # the parametrised fixture (journal, sqlite, postgres), imported for pytest

WORKER_SCRIPT = Path(__file__).with_name("concurrent_worker.py")


def trials_of(cfg) -> list[optuna.trial.FrozenTrial]:
    return study_of(cfg).get_trials()


def test_every_outcome_is_recorded_and_a_rerun_runs_nothing_again(storage_url, tmp_path):
    cfg = sweep_config(storage_url, tmp_path / "runs")
    counts = run_sweep(cfg, executor=DebugExecutor(mixed_trainer))
    assert sum(counts.values(), Counter()) == {"completed": 3, "diverged": 1, "failed": 1}
    trials = trials_of(cfg)
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    plan = build_plans(cfg, None)[0]
    for trial in trials:
        config = plan.config(trial.user_attrs["hyperparameters"], 0)
        if trial.number == 1:  # the trainer raised: FAIL with the traceback, and the sweep went on
            assert trial.state == TrialState.FAIL and trial.user_attrs["status"] == "failed"
            assert "Traceback" in trial.user_attrs["reason"] and "boom inside the trainer" in trial.user_attrs["reason"]
        elif trial.number == 2:  # diverged: COMPLETE with its best evaluation before diverging (the paper's rule)
            assert trial.state == TrialState.COMPLETE and trial.value == 250.0
            assert trial.user_attrs["status"] == "diverged" and trial.user_attrs["reason"] == "loss_d is nan at step 3"
        else:
            assert trial.state == TrialState.COMPLETE and trial.user_attrs["status"] == "completed"
            assert trial.value == closed_form_fid(config) == trial.user_attrs[f"best_{METRIC}"]
            assert trial.user_attrs[f"final_{METRIC}"] == trial.value and trial.user_attrs["steps"] == 4
            assert trial.intermediate_values == {2: trial.value + 1, 4: trial.value}
        assert trial.user_attrs["run_dir"] == str(tmp_path / "runs" / plan.name / str(trial.number))
        assert trial.user_attrs["job_id"].startswith("debug-")
    assert trials[0].user_attrs["is_default"] and trials[0].params["lr"] == 1e-4  # WGAN-GP's published default
    assert not any(t.user_attrs["is_default"] for t in trials[1:])
    calls = executions(tmp_path / "runs")
    assert sorted(calls) == sorted(f"{plan.name}/{n}" for n in range(5))

    run_sweep(cfg, executor=DebugExecutor(mixed_trainer))  # the same command again
    assert executions(tmp_path / "runs") == calls
    assert [(t.state, t.value) for t in trials_of(cfg)] == [(t.state, t.value) for t in trials]


def test_retry_failed_gives_a_failed_entry_a_new_attempt_in_its_run_folder(storage_url, tmp_path):
    cfg = sweep_config(storage_url, tmp_path / "runs", "n_trials=3")
    run_sweep(cfg, executor=DebugExecutor(mixed_trainer))
    retry = sweep_config(storage_url, tmp_path / "runs", "n_trials=3", "retry_failed=true",
                         name=cfg.study_name)
    run_sweep(retry, executor=DebugExecutor(scored_trainer))
    trials = trials_of(retry)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE,
                                         TrialState.COMPLETE]
    assert trials[3].user_attrs["retry_of"] == 1 and trials[3].user_attrs["list_index"] == 1
    assert trials[3].user_attrs["run_dir"] == trials[1].user_attrs["run_dir"]
    assert trials[3].params == trials[1].params


def test_a_stopped_run_waits_again_and_is_resumed(storage_url, tmp_path):
    cfg = sweep_config(storage_url, tmp_path / "runs", "n_trials=2")
    run_sweep(cfg, executor=DebugExecutor(once_interrupted_trainer))
    trials = trials_of(cfg)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert executions(tmp_path / "runs").count(f"{cfg.study_name}/0") == 2


def test_reopening_a_study_with_other_settings_is_refused(storage_url, tmp_path):
    cfg = sweep_config(storage_url, tmp_path / "runs", "n_trials=2")
    run_sweep(cfg, executor=DebugExecutor(scored_trainer))
    other = sweep_config(storage_url, tmp_path / "runs", "n_trials=2", "sampler.seed=7", "train.batch_size=32",
                         name=cfg.study_name)
    with pytest.raises(StudyMismatch, match=r"sampler\.seed: stored 123, requested 7") as error:
        run_sweep(other, executor=DebugExecutor(scored_trainer))
    assert "protocol.train.batch_size: stored 64, requested 32" in str(error.value)
    # more trials for the same study: the first ones are kept, the new ones are the seed's next draws
    more = sweep_config(storage_url, tmp_path / "runs", "n_trials=4", name=cfg.study_name)
    run_sweep(more, executor=DebugExecutor(scored_trainer))
    longer = [t.params for t in trials_of(more)]
    fresh = sweep_config(storage_url, tmp_path / "fresh", "n_trials=4")
    run_sweep(fresh, executor=DebugExecutor(scored_trainer))
    assert [t.params for t in trials_of(fresh)] == longer


def test_trials_of_dead_workers_are_requeued_and_live_ones_left_alone(storage_url, tmp_path):
    cfg = sweep_config(storage_url, tmp_path / "runs", "n_trials=4", "heartbeat.interval_s=0.5", "heartbeat.grace_s=2")
    plan = build_plans(cfg, None)[0]
    study = create_or_open(plan.storage_url, plan.spec)
    ensure_trials(plan.storage_url, study, plan.spec, plan.trials, plan.runs_root)
    storage = open_storage(plan.storage_url)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer exists on this machine
    here = Worker.current().to_dict()
    workers = {0: {**here, "pid": gone.pid},  # its process is gone from this machine: requeued at once
               1: {**here, "host": "elsewhere"},  # silent on another machine for longer than the grace period
               2: {**here, "host": "elsewhere"}}  # beating on another machine: left alone
    for number, worker in workers.items():
        trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
        assert storage.set_trial_state_values(trial_id, TrialState.RUNNING)
        storage.set_trial_user_attr(trial_id, "worker", worker)
    time.sleep(2.5)
    trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, 2)
    storage.set_trial_user_attr(trial_id, "heartbeat", time.time() + 300)  # a recent beat, still fresh after the run
    run_sweep(cfg, executor=DebugExecutor(scored_trainer))
    trials = trials_of(cfg)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.RUNNING,
                                         TrialState.COMPLETE]
    assert f"worker process {gone.pid} on" in trials[0].user_attrs["requeue_reason"]
    assert trials[1].user_attrs["requeue_reason"].startswith("no heartbeat for ")
    assert trials[0].user_attrs["requeues"] == trials[1].user_attrs["requeues"] == 1
    assert sorted(executions(tmp_path / "runs")) == [f"{plan.name}/{n}" for n in (0, 1, 3)]


def test_a_restarted_job_takes_its_trial_over_and_no_other_job_does(storage_url, tmp_path):
    cfg = sweep_config(storage_url, tmp_path / "runs", "n_trials=1")
    plan = build_plans(cfg, None)[0]
    study = create_or_open(plan.storage_url, plan.spec)
    ensure_trials(plan.storage_url, study, plan.spec, plan.trials, plan.runs_root)
    storage = open_storage(plan.storage_url)
    trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, 0)
    assert storage.set_trial_state_values(trial_id, TrialState.RUNNING)  # held by job 77 on another node
    storage.set_trial_user_attr(trial_id, "worker", {**Worker.current().to_dict(), "host": "node-9"})
    storage.set_trial_user_attr(trial_id, "job_id", "77_3")
    task = plan.task(study.get_trials()[0])
    assert run_trial(task, train_fn=scored_trainer, job_id="78_0") is None  # another job: not its trial
    assert run_trial(task, train_fn=scored_trainer) is None  # run by hand: not its trial either
    assert run_trial(task, train_fn=scored_trainer, job_id="77_3") == "completed"  # job 77_3 restarted by SLURM
    trial = study_of(cfg).get_trials()[0]
    assert trial.state == TrialState.COMPLETE and trial.user_attrs["requeue_reason"] == "its job 77_3 was restarted"
    assert executions(tmp_path / "runs") == [f"{plan.name}/0"]


def test_adaptive_sampler_runs_n_trials_from_its_proposals(storage_url, tmp_path):
    cfg = sweep_config(storage_url, tmp_path / "runs", "n_trials=6", "sampler.name=tpe",
                       "+sampler.options.n_startup_trials=2")
    run_sweep(cfg, executor=DebugExecutor(scored_trainer))
    trials = trials_of(cfg)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6
    assert trials[0].user_attrs["is_default"] and [t.user_attrs["list_index"] for t in trials] == list(range(6))
    for trial in trials[1:]:
        assert 1e-5 <= trial.params["lr"] <= 1e-2 and trial.params["n_disc"] in (1, 5)
        assert trial.value == pytest.approx(1000 * trial.params["lr"] + 10 * trial.params["beta1"]
                                            + trial.params["n_disc"])


def test_export_is_one_tidy_row_per_trial_plus_the_evaluations(storage_url, tmp_path, monkeypatch):
    cfg = sweep_config(storage_url, tmp_path / "runs", "search=narrow", "n_trials=4")
    run_sweep(cfg, executor=DebugExecutor(mixed_trainer))
    name = cfg.study_name
    trials, evaluations = export_trials(str(cfg.storage.url), name)
    assert list(trials["trial"]) == [0, 1, 2, 3]
    assert list(trials["status"]) == ["completed", "failed", "diverged", "completed"]
    assert list(trials["state"]) == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert trials.loc[2, "objective"] == 250.0 and math.isnan(trials.loc[1, "objective"])
    assert set(trials["diverged_rule"]) == {"keep"}
    assert set(trials["objective_name"]) == {f"best_{METRIC}"} and set(trials["direction"]) == {"minimize"}
    # narrow WGAN-GP (§5.3/5.4): its default n_disc 5 is outside the space (fixed 1); lr 1e-4 and beta1 0.5 are in
    assert trials.loc[0, "is_default"] and trials.loc[0, "default_outside_space"]
    assert trials.loc[0, "outside_space"] == "n_disc"
    assert list(trials["param_n_disc"]) == [5, 1, 1, 1] and set(trials["param_beta1"]) == {0.5}
    assert set(trials["param_discriminator_batchnorm"]) == {False}
    for row in trials.itertuples():
        if row.status == "completed":
            assert row.objective == getattr(row, f"best_{METRIC}") == pytest.approx(1000 * row.param_lr + 10 * 0.5 + row.param_n_disc)
    assert evaluations.groupby("trial").size().to_dict() == {0: 2, 3: 2}
    assert list(evaluations.columns[:5]) == ["study", "trial", "model", "dataset", "step"]
    first = evaluations[evaluations["trial"] == 0]
    best = trials.loc[0, f"best_{METRIC}"]
    assert list(first[METRIC]) == [best + 1, best]

    if not storage_url.startswith("journal:"):  # RDB: the plain-SQL reader gives what Optuna's own reader gives
        storage = open_storage(storage_url)
        assert results._rdb_trials(storage, storage.get_study_id_from_name(name)) is not None
        monkeypatch.setattr(results, "_rdb_trials", lambda storage, study_id: None)
        pd.testing.assert_frame_equal(results.trials_table(storage_url, name), trials)
    paths = write_export(trials, evaluations, tmp_path / "export", name)
    assert sorted(p.name for p in paths) == sorted(f"{name}.{k}.{s}" for k in ("trials", "evaluations")
                                                   for s in ("parquet", "csv"))
    back = pd.read_parquet(tmp_path / "export" / f"{name}.trials.parquet")
    assert back["objective"].tolist()[2] == 250.0 and back["reason"][1].startswith("Traceback")
    from gan_study.analysis.load import read_export

    for suffix in ("parquet", "csv"):
        tables = read_export([p for p in paths if p.suffix == f".{suffix}"])
        assert len(tables.trials) == 4 and len(tables.evaluations) == 4
    assert set(tables.trials["measured"]) == {True, False}


def test_four_concurrent_workers_run_every_trial_exactly_once(storage_url, tmp_path):
    cfg = sweep_config(storage_url, tmp_path / "runs", "n_trials=12")
    plan: StudyPlan = build_plans(cfg, None)[0]
    configs = {entry.index: plan.config(entry.values, entry.seed) for entry in plan.trials}
    job = tmp_path / "job.pkl"
    job.write_bytes(pickle.dumps((plan, configs)))
    workers = [subprocess.Popen([sys.executable, str(WORKER_SCRIPT), str(job), str(seed)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for seed in range(4)]
    outputs = [w.communicate(timeout=240)[0].decode() for w in workers]
    failures = [out[-2500:] for w, out in zip(workers, outputs) if w.returncode != 0]
    assert not failures, "\n---\n".join(failures)
    trials = trials_of(cfg)
    assert len(trials) == 12 and all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(executions(tmp_path / "runs")) == sorted(f"{plan.name}/{n}" for n in range(12))
    ran = [int(line.split()[1]) for out in outputs for line in out.splitlines() if line.startswith("ran ")]
    assert sorted(ran) == list(range(12))
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 12


def test_sqlite_transactions_take_the_write_lock_when_they_begin(tmp_path):
    """Without it Python's sqlite3 reads outside any transaction, and two workers can both claim one trial
    (seen: 302 claims of 300 trials by 8 racing processes)."""
    path = tmp_path / "gan.db"
    storage = open_storage(f"sqlite:///{path}")
    with storage.engine.connect() as connection, connection.begin():
        connection.exec_driver_sql("SELECT count(*) FROM trials").all()  # a read only, as a claim starts
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
