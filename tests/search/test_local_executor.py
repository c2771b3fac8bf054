"""launcher=local: a concurrency cap, GPUs dealt round-robin to real child processes, job states."""
from __future__ import annotations

import time
from pathlib import Path

from gan_study.launch.base import TERMINAL
from gan_study.launch.debug import DebugExecutor
from gan_study.launch.local import LocalExecutor
from gan_study.launch.registry import build_executor
from gan_study.launch.sweep import run_sweep
from gan_study.launch.sweep_plans import build_plans
from stand_in_trainers import scored_trainer
from sweep_testkit import study_of, sweep_config


def child_environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_local_pool_caps_parallel_children_and_deals_gpus_round_robin(tmp_path):
    cfg = sweep_config(f"journal:{tmp_path / 'gan.journal'}", tmp_path / "runs", "n_trials=4")
    run_sweep(cfg, executor=DebugExecutor(scored_trainer))  # every trial done: each child finds nothing to do
    plan = build_plans(cfg, None)[0]
    tasks = [plan.task(trial) for trial in study_of(cfg).get_trials()]
    executor = build_executor({"name": "local", "max_parallel": 3, "gpus": [0, 1], "threads_per_trial": 1},
                              tmp_path / "runs")
    assert isinstance(executor, LocalExecutor) and executor.capacity == 3
    refs = executor.submit(tasks)
    assert len({r.job_id for r in refs}) == 4
    running = list(executor._running.values())
    assert len(running) == 3 and executor.states(refs)[refs[3]] == "PENDING"  # the cap holds the 4th back
    environments = [child_environment(child.pid) for child in running]
    assert [env["CUDA_VISIBLE_DEVICES"] for env in environments] == ["0", "1", "0"]
    assert [env["GAN_STUDY_JOB_ID"] for env in environments] == [r.job_id for r in refs[:3]]
    assert {env["OMP_NUM_THREADS"] for env in environments} == {"1"}
    deadline = time.monotonic() + 120
    while not all(state in TERMINAL for state in executor.states(refs).values()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert set(executor.states(refs).values()) == {"COMPLETED"}
    for ref in refs:
        assert "is not waiting (COMPLETE): nothing to do" in Path(ref.log_path).read_text()
