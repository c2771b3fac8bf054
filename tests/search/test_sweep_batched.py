"""`launcher.batch` through a real `gan-sweep launcher=local` (real trainer, real processes): kill -9 of a batched
worker mid-group, then a re-run with another batch size; one Ctrl-C, then a re-run one trial per process.

The study: ns_gan on Triangles with n_disc fixed, so the trials' group keys differ in D's batch norm only: trials
0 and 1 draw it on, 2 and 3 off (the seed-123 list; `gan-sweep --dry-run` shows it).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from gan_study.study.search.storage import open_storage
from gan_study.study.train.run_folder import RunFolder

from test_sweep_resume import ROOT, evaluated_steps, sweep_command

pytestmark = pytest.mark.slow

STEPS, EVERY = 4, 2


def batched_command(tmp_path: Path, data_root: Path, n_trials: int, batch: str) -> list[str]:
    replaced = {"n_trials=2": f"n_trials={n_trials}", "train.steps=12": f"train.steps={STEPS}",
                "train.eval_every_steps=4": f"train.eval_every_steps={EVERY}"}
    command = [replaced.get(arg, arg) for arg in sweep_command(tmp_path, data_root)]
    assert f"n_trials={n_trials}" in command and f"train.steps={STEPS}" in command
    return command + ["~search.space.params.n_disc", f"launcher.batch={batch}", "progress_every_s=0"]


def trials(tmp_path: Path) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(f"journal:{tmp_path / 'gan.journal'}")
    return optuna.load_study(study_name="resume", storage=storage).get_trials()


def record(tmp_path: Path, number: int) -> dict:
    return json.loads(RunFolder(tmp_path / "runs" / "resume" / str(number)).record.read_text())


def wait_for(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 240
    while not condition():
        assert process.poll() is None and time.monotonic() < deadline, f"the sweep ended before {what}"
        time.sleep(0.05)


def test_kill_9_mid_group_then_a_rerun_with_another_batch_resumes_each_trial_once(tmp_path, data_root):
    runs = [tmp_path / "runs" / "resume" / str(number) for number in range(4)]
    first = subprocess.Popen(batched_command(tmp_path, data_root, 4, "2"), cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    wait_for(lambda: all(EVERY in evaluated_steps(run) and RunFolder(run).checkpoint.exists() for run in runs[:2]),
             first, "trials 0 and 1 checkpointed at step 2")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed = trials(tmp_path)
    assert [t.state for t in killed] == [TrialState.RUNNING] * 2 + [TrialState.WAITING] * 2
    assert killed[0].user_attrs["job_id"] == killed[1].user_attrs["job_id"]  # one worker trained both
    assert all(STEPS not in evaluated_steps(run) for run in runs[:2]), "the group finished before the kill"

    again = subprocess.run(batched_command(tmp_path, data_root, 4, "3"), cwd=ROOT, capture_output=True, text=True,
                           timeout=400)
    assert again.returncode == 0, again.stderr[-3000:]
    done = trials(tmp_path)
    assert [t.state for t in done] == [TrialState.COMPLETE] * 4
    jobs = [t.user_attrs["job_id"] for t in done]
    # batch 3, but D's batch norm differs between {0, 1} and {2, 3}: never one group
    assert jobs[0] == jobs[1] != jobs[2] == jobs[3]
    for number in range(4):
        ran = record(tmp_path, number)
        resumed = EVERY if number < 2 else None
        assert (ran["status"], ran["steps"], ran["resumed_from_step"]) == ("completed", STEPS, resumed)
        assert ran["steps_run_this_process"] == STEPS - (resumed or 0)  # no step ran twice
        assert evaluated_steps(runs[number]) == [EVERY, STEPS]  # no evaluation lost or repeated
        assert done[number].value == ran["best"]["precision_median_distance"]
    assert [t.user_attrs.get("requeues") for t in done] == [1, 1, None, None]


def test_one_sigint_checkpoints_every_trial_of_the_group_and_each_resumes_alone(tmp_path, data_root):
    runs = [tmp_path / "runs" / "resume" / str(number) for number in range(2)]
    driver = subprocess.Popen(batched_command(tmp_path, data_root, 2, "2"), cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    wait_for(lambda: RunFolder(runs[0]).checkpoint.exists(), driver, "trial 0's checkpoint")
    driver.send_signal(signal.SIGINT)  # once
    _, err = driver.communicate(timeout=180)
    assert driver.returncode == 128 + signal.SIGINT, err[-3000:]
    assert err.strip().splitlines()[-1].startswith("gan-sweep: stopped by SIGINT: 2 trial(s) stay queued")
    stopped = trials(tmp_path)
    assert [t.state for t in stopped] == [TrialState.WAITING] * 2
    checkpointed = [record(tmp_path, number)["steps"] for number in range(2)]
    assert [r["status"] for r in map(lambda n: record(tmp_path, n), range(2))] == ["interrupted"] * 2
    assert [t.user_attrs["steps"] for t in stopped] == checkpointed and all(0 < s < STEPS for s in checkpointed)

    again = subprocess.run(batched_command(tmp_path, data_root, 2, "off"), cwd=ROOT, capture_output=True, text=True,
                           timeout=400)
    assert again.returncode == 0, again.stderr[-3000:]
    done = trials(tmp_path)
    assert [t.state for t in done] == [TrialState.COMPLETE] * 2
    assert done[0].user_attrs["job_id"] != done[1].user_attrs["job_id"]  # off: one process each
    for number, steps in enumerate(checkpointed):
        ran = record(tmp_path, number)
        assert (ran["status"], ran["resumed_from_step"], ran["steps_run_this_process"]) == \
            ("completed", steps, STEPS - steps)
        assert evaluated_steps(runs[number]) == [EVERY, STEPS]
