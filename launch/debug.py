"""launcher=debug: every trial inside the driver process, one after another (pdb, profilers, tests)."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

from gan_study.launch.base import Executor, JobRef
from gan_study.study.search.task import TrialTask
from gan_study.study.search.worker import TrainFn, run_trial

log = logging.getLogger("gan_study.launch")


class DebugExecutor(Executor):
    """`submit` runs the trials before it returns; `train_fn` replaces the trainer (a seam for tests)."""

    name = "debug"
    capacity = 1

    def __init__(self, train_fn: TrainFn | None = None):
        self.train_fn = train_fn
        self._stopping = False
        self._states: dict[JobRef, str] = {}
        self._count = 0

    @classmethod
    def from_config(cls, launcher: Mapping[str, Any], study_dir: Path) -> DebugExecutor:
        return cls()

    def submit(self, tasks: list[TrialTask]) -> list[JobRef]:
        refs = []
        for task in tasks:
            self._count += 1
            ref = JobRef(self.name, f"debug-{os.getpid()}-{self._count}", task.trial_number)
            if self._stopping:
                self._states[ref] = "CANCELLED"
            else:
                self._states[ref] = self._run(task, ref.job_id)
            refs.append(ref)
        return refs

    def _run(self, task: TrialTask, job_id: str) -> str:
        try:
            run_trial(task, should_stop=lambda: self._stopping, train_fn=self.train_fn, job_id=job_id)
        except Exception:  # noqa: BLE001 - the driver reconciles the trial (it stays RUNNING: requeued)
            log.exception("trial %d of %s: the worker itself failed", task.trial_number, task.study_name)
            return "FAILED"
        return "COMPLETED"

    def states(self, jobs: list[JobRef]) -> dict[JobRef, str]:
        return {job: self._states.get(job, "LOST") for job in jobs}

    def request_stop(self) -> None:
        self._stopping = True  # the trial running in this process checkpoints at its next step

    def stop(self) -> None:
        self.request_stop()
