"""`gan-sweep ... launcher=slurm` end to end on the real single-node SLURM, with the real trainer.

Each test runs the real CLI (`python -m launch.sweep`, what the `gan-sweep` script calls) as a subprocess:
Triangles, `train=tiny` step counts, the cheap Triangles precision as the objective, one CPU per array task
(the node's 2 fake GPUs are scheduling tokens only, so at most 2 array tasks run at once).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from launch.slurm import scheduler_states
from study.search.storage import open_storage
from study.train.run_folder import RunFolder

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NS_GAN = "triangles-wide-ns_gan"  # the default study name: {dataset}-{search}-{model}


def sweep_command(tmp_path: Path, data_root: Path, partition: str, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "launch.sweep", "dataset=triangles", "train=tiny", "train.log_every_steps=1",
            "eval=none", "+eval.metrics.triangles_pr={n:8,recall:false,bank_grid:4,steps:5,batch_size:8}",
            "objective.metric=precision_median_distance", "launcher=slurm",
            f"launcher.partition={partition}", "launcher.cpus_per_task=1", "launcher.mem_gb=2",
            "launcher.timeout_min=10", "launcher.signal_delay_s=60",
            f"storage.url=journal:{tmp_path / 'gan.journal'}", f"runs_root={tmp_path / 'runs'}",
            f"data_root={data_root}", f"cache_dir={tmp_path / 'cache'}", "poll_s=1", "heartbeat.interval_s=2",
            "heartbeat.grace_s=120", f"hydra.run.dir={tmp_path / 'hydra'}", *overrides]


def trials_of(tmp_path: Path, study: str) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(f"journal:{tmp_path / 'gan.journal'}")
    try:
        return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    except KeyError:
        return []


def record(tmp_path: Path, study: str, number: int) -> dict:
    return json.loads((tmp_path / "runs" / study / str(number) / "record.json").read_text())


def evaluated_steps(run_dir: Path) -> list[int]:
    return [int(row["step"]) for row in RunFolder(run_dir).read_metrics()]


def wait_until(condition, what: str, timeout_s: float = 240, driver: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if driver is not None and driver.poll() not in (None, 0):
            pytest.fail(f"gan-sweep exited with {driver.returncode} while waiting for {what}")
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(0.2)


def run_sweep(command: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def restarts(job_id: str) -> int:
    out = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Restarts=(\d+)", out).group(1))


def test_a_two_model_study_completes_with_packed_trials_each_recorded_once(slurm_cluster, tmp_path, data_root):
    run_sweep(sweep_command(tmp_path, data_root, slurm_cluster, "models=[ns_gan,lsgan]", "n_trials=3",
                            "train.steps=4", "train.eval_every_steps=2", "launcher.trials_per_gpu=2"))
    for study in (NS_GAN, "triangles-wide-lsgan"):
        trials = trials_of(tmp_path, study)
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
        assert all(t.user_attrs["status"] == "completed" and t.user_attrs["steps"] == 4 for t in trials)
        jobs = [t.user_attrs["job_id"] for t in trials]
        # trials_per_gpu=2: trials 0 and 1 ran side by side in one array task, trial 2 in the next one
        assert re.fullmatch(r"\d+_0", jobs[0]) and jobs[1] == jobs[0] and jobs[2] == jobs[0][:-1] + "1"
        assert set(scheduler_states(jobs).values()) == {"COMPLETED"}
        for trial in trials:  # its own log, linked from the trial, in the study's folder
            log_path = Path(trial.user_attrs["log_path"])
            assert log_path == tmp_path / "runs" / study / "logs" / trial.user_attrs["job_id"] / \
                f"trial_{trial.number}.out"
            assert f"trial {trial.number} of {study}: completed" in log_path.with_suffix(".err").read_text()
            assert record(tmp_path, study, trial.number)["resumed_from_step"] is None  # ran once, never resumed
        assert trials[0].params != trials[1].params  # two different trials, not one trial twice


def test_time_limit_signal_and_scontrol_requeue_each_resume_the_trial_from_its_checkpoint(slurm_cluster, tmp_path,
                                                                                          data_root):
    """USR2 (what SLURM sends before the time limit): submitit's checkpoint() requeues the array task itself;
    `scontrol requeue` (what an admin or preemption does): SIGTERM, and SLURM requeues it. Both on one trial."""
    steps, every = 60, 20
    driver = subprocess.Popen(sweep_command(tmp_path, data_root, slurm_cluster, "model=ns_gan", "n_trials=1",
                                            f"train.steps={steps}", f"train.eval_every_steps={every}"),
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_dir = tmp_path / "runs" / NS_GAN / "0"
    try:
        wait_until(lambda: every in evaluated_steps(run_dir), "the trial's first checkpoint", driver=driver)
        job_id = trials_of(tmp_path, NS_GAN)[0].user_attrs["job_id"]
        subprocess.run(["scancel", "--signal=USR2", job_id], check=True)
        wait_until(lambda: restarts(job_id) == 1 and 2 * every in evaluated_steps(run_dir),
                   "the task requeued by submitit to resume and pass its next checkpoint", driver=driver)
        subprocess.run(["scontrol", "requeue", job_id], check=True)
        wait_until(lambda: trials_of(tmp_path, NS_GAN)[0].state == TrialState.COMPLETE, "the resumed trial",
                   driver=driver)
        assert driver.wait(timeout=60) == 0
    finally:
        if driver.poll() is None:
            driver.kill()
    trial = trials_of(tmp_path, NS_GAN)[0]
    log = Path(trial.user_attrs["log_path"]).with_suffix(".err").read_text()
    stops = list(dict.fromkeys(int(step) for step in re.findall(r"stopped at step (\d+)", log)))
    assert len(stops) == 2 and every <= stops[0] < 2 * every <= stops[1] < steps, stops  # one stop per signal
    done = record(tmp_path, NS_GAN, 0)
    assert done["status"] == "completed" and done["steps"] == steps
    assert done["resumed_from_step"] == stops[1]  # resumed exactly where the last signal stopped it
    assert done["resumed_from_step"] + done["steps_run_this_process"] == steps  # no step run twice
    assert evaluated_steps(run_dir) == [every, 2 * every, steps]  # no evaluation lost or repeated
    assert trial.user_attrs["job_id"] == job_id and restarts(job_id) == 2  # the same job, requeued twice
    assert "requeues" not in trial.user_attrs  # given back by its worker each time, never presumed lost


def test_a_cancelled_job_is_reconciled_by_the_next_sweep_and_only_its_trial_runs_again(slurm_cluster, tmp_path,
                                                                                         data_root):
    command = sweep_command(tmp_path, data_root, slurm_cluster, "model=ns_gan", "n_trials=2", "train.steps=40",
                            "train.eval_every_steps=10")
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run1 = tmp_path / "runs" / NS_GAN / "1"
    try:
        wait_until(lambda: 10 in evaluated_steps(run1), "trial 1's first checkpoint", driver=first)
    finally:  # the user walks away: the driver is gone, the jobs stay queued or running
        if first.poll() is None:
            os.kill(first.pid, signal.SIGKILL)
        first.wait()
    cancelled = trials_of(tmp_path, NS_GAN)[1].user_attrs["job_id"]
    subprocess.run(["scancel", cancelled], check=True)
    wait_until(lambda: trials_of(tmp_path, NS_GAN)[0].state == TrialState.COMPLETE, "trial 0 to finish")
    wait_until(lambda: trials_of(tmp_path, NS_GAN)[1].state == TrialState.WAITING, "trial 1 given back")
    kept = trials_of(tmp_path, NS_GAN)[0].user_attrs["job_id"]

    run_sweep(command)
    trials = trials_of(tmp_path, NS_GAN)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]  # no third trial
    assert trials[0].user_attrs["job_id"] == kept  # finished: not submitted again
    assert record(tmp_path, NS_GAN, 0)["resumed_from_step"] is None
    rerun = trials[1].user_attrs["job_id"]
    assert rerun != cancelled and scheduler_states([cancelled, rerun]) == {cancelled: "CANCELLED",
                                                                           rerun: "COMPLETED"}
    again = record(tmp_path, NS_GAN, 1)
    assert again["steps"] == 40 and again["resumed_from_step"] >= 10  # from its checkpoint, not from scratch
    assert again["resumed_from_step"] + again["steps_run_this_process"] == 40
