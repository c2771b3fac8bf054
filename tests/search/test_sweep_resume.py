"""kill -9 of a real gan-sweep process (real trainer, local process pool), then the same command again."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from gan_study.study.search.storage import open_storage

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STEPS, EVERY = 12, 4


def sweep_command(tmp_path: Path, data_root: Path) -> list[str]:
    return [sys.executable, "-m", "gan_study.launch.sweep", "model=ns_gan", "dataset=triangles", "train=tiny",
            f"train.steps={STEPS}", f"train.eval_every_steps={EVERY}", "train.log_every_steps=1", "eval=none",
            "+eval.metrics.triangles_pr={n:8,recall:false,bank_grid:4,steps:5,batch_size:8}",
            "objective.metric=precision_median_distance", "n_trials=2", "study_name=resume", "launcher=local",
            f"storage.url=journal:{tmp_path / 'gan.journal'}", f"runs_root={tmp_path / 'runs'}",
            f"data_root={data_root}", f"cache_dir={tmp_path / 'cache'}", "poll_s=0.2", "heartbeat.interval_s=1",
            "heartbeat.grace_s=30", f"hydra.run.dir={tmp_path / 'hydra'}"]


def evaluated_steps(run_dir: Path) -> list[int]:
    try:
        with open(run_dir / "metrics.csv", newline="") as handle:
            return [int(row["step"]) for row in csv.DictReader(handle)]
    except (FileNotFoundError, KeyError, ValueError):
        return []


def test_kill_9_mid_trial_then_rerun_resumes_from_the_checkpoint(tmp_path, data_root):
    command = sweep_command(tmp_path, data_root)
    run0 = tmp_path / "runs" / "resume" / "0"
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while EVERY not in evaluated_steps(run0) or not (run0 / "checkpoint.pt").exists():  # checkpointed at step 4
        assert first.poll() is None and time.monotonic() < deadline, "the sweep ended before trial 0's checkpoint"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert STEPS not in evaluated_steps(run0), "trial 0 finished before the kill: nothing to resume"
    storage = open_storage(f"journal:{tmp_path / 'gan.journal'}")
    killed = optuna.load_study(study_name="resume", storage=storage).get_trials()
    assert [t.state for t in killed] == [TrialState.RUNNING, TrialState.WAITING]
    child = killed[0].user_attrs["worker"]["pid"]
    for _ in range(100):  # the trial's process dies with the driver (PR_SET_PDEATHSIG), no orphan trains on
        if not Path(f"/proc/{child}").exists() or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"trial process {child} outlived the killed driver")

    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    trials = optuna.load_study(study_name="resume", storage=storage).get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]  # each trial once, no extra
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 2
    record = json.loads((run0 / "record.json").read_text())
    assert record["status"] == "completed" and record["steps"] == STEPS
    assert record["resumed_from_step"] == EVERY  # resumed from its step-4 checkpoint, not from scratch
    assert record["steps_run_this_process"] == STEPS - EVERY
    assert evaluated_steps(run0) == [EVERY, 2 * EVERY, STEPS]  # no evaluation lost or duplicated
    assert trials[0].user_attrs["requeues"] == 1
    assert trials[0].user_attrs["requeue_reason"].startswith("worker process ")
    assert trials[0].value == record["best"]["precision_median_distance"]
    assert trials[1].user_attrs["steps"] == STEPS and "requeues" not in trials[1].user_attrs
