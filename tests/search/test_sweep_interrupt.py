"""One Ctrl-C of a real `gan-sweep launcher=local`: the running trials checkpoint, the driver exits with a
one-line summary, the storage holds every trial WAITING, and the same command resumes them. In-process
(launcher=debug): the same summary, and a second Ctrl-C aborts."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from gan_study.launch.debug import DebugExecutor
from gan_study.launch.progress import count_entries
from gan_study.launch.driver import SweepStopped
from gan_study.launch.signals import SweepAborted
from gan_study.launch.sweep import run_sweep
from gan_study.study.search.storage import open_storage
from gan_study.study.train.run_folder import RunFolder

from sweep_testkit import study_of, sweep_config
from test_sweep_resume import EVERY, ROOT, STEPS, sweep_command


def three_trials_two_at_once(tmp_path: Path, data_root: Path) -> list[str]:
    """The kill -9 test's sweep with a third trial, queued while the first two run."""
    return [{"n_trials=2": "n_trials=3"}.get(arg, arg) for arg in sweep_command(tmp_path, data_root)] + [
        "launcher.max_parallel=2", "progress_every_s=0"]


def trials(tmp_path: Path) -> list:
    storage = open_storage(f"journal:{tmp_path / 'gan.journal'}")
    return optuna.load_study(study_name="resume", storage=storage).get_trials()


@pytest.mark.slow
def test_one_sigint_checkpoints_the_running_trials_and_ends_the_driver(tmp_path, data_root):
    command = three_trials_two_at_once(tmp_path, data_root)
    assert "n_trials=3" in command
    runs = [tmp_path / "runs" / "resume" / str(index) for index in range(3)]
    driver = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not RunFolder(runs[0]).checkpoint.exists():  # trial 0 has checkpointed at step 4: it is mid-run
        assert driver.poll() is None and time.monotonic() < deadline, "the sweep ended before trial 0's checkpoint"
        time.sleep(0.05)
    driver.send_signal(signal.SIGINT)  # once
    out, err = driver.communicate(timeout=180)  # it exits on its own: no second signal
    assert driver.returncode == 128 + signal.SIGINT, err[-3000:]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == ("gan-sweep: stopped by SIGINT: 3 trial(s) stay queued (0 done, 0 failed); "
                                            "re-run the same command to resume them from their checkpoints")
    stopped = trials(tmp_path)
    assert [t.state for t in stopped] == [TrialState.WAITING] * 3  # nothing lost, nothing half-claimed
    assert count_entries(stopped, 3) == Counter(waiting=3)  # what the progress line counts from the storage
    progress = [line.split(" | ")[0] for line in out.splitlines() if " done (" in line]  # the driver's log, on stdout
    assert any(line.endswith("0/3 done (0 failed), 2 running, 1 waiting") for line in progress)
    assert progress[-1].endswith("0/3 done (0 failed), 0 running, 3 waiting")
    checkpointed = {index: stopped[index].user_attrs["steps"] for index in (0, 1) if "steps" in stopped[index].user_attrs}
    assert 0 in checkpointed and all(0 < steps < STEPS for steps in checkpointed.values())

    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert again.returncode == 0, again.stderr[-3000:]
    assert [t.state for t in trials(tmp_path)] == [TrialState.COMPLETE] * 3
    for index, run in enumerate(runs):
        record = json.loads(RunFolder(run).record.read_text())
        assert record["status"] == "completed" and record["steps"] == STEPS
        assert record["resumed_from_step"] == checkpointed.get(index)  # from where the Ctrl-C left it
        assert [int(row["step"]) for row in RunFolder(run).read_metrics()] == [EVERY, 2 * EVERY, STEPS]


def ctrl_c_trainer(times: int):
    """A trainer that presses Ctrl-C `times` times, then waits for its stop flag as a real run polls it."""

    def train(config: dict, run_dir: str, *, should_stop, on_evaluation) -> dict:
        for _ in range(times):
            os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 30
        while not should_stop():
            assert time.monotonic() < deadline, "the first Ctrl-C never reached the running trial"
            time.sleep(0.01)
        return {"status": "interrupted", "reason": "stopped at step 1 (preemption)", "steps": 1}

    return train


def test_in_process_one_ctrl_c_stops_the_trial_and_the_driver_with_the_summary(tmp_path):
    cfg = sweep_config(f"journal:{tmp_path / 'gan.journal'}", tmp_path / "runs")
    with pytest.raises(SweepStopped, match=r"^stopped by SIGINT: 5 trial\(s\) stay queued \(0 done, 0 failed\); re-run"):
        run_sweep(cfg, executor=DebugExecutor(ctrl_c_trainer(1)))
    trials = study_of(cfg).get_trials()
    assert [t.state for t in trials] == [TrialState.WAITING] * 5 and trials[0].user_attrs["steps"] == 1
    assert count_entries(trials, 5) == Counter(waiting=5)


def test_in_process_a_second_ctrl_c_aborts(tmp_path):
    cfg = sweep_config(f"journal:{tmp_path / 'gan.journal'}", tmp_path / "runs")
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(SweepAborted, match="aborted by a second SIGINT"):
        run_sweep(cfg, executor=DebugExecutor(ctrl_c_trainer(2)))
    assert signal.getsignal(signal.SIGINT) is before  # the driver's handler is gone again
