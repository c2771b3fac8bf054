"""One interface for every way of running trials: in-process, a local process pool, SLURM."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from gan_study.study.search.task import TrialTask

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY",
                      "BOOT_FAIL", "DEADLINE", "REVOKED", "LOST"})
"""Job states after which nothing of the job runs any more; a trial still RUNNING then has lost its worker."""


@dataclass(frozen=True)
class JobRef:
    """Where one trial went: enough to ask the executor (or the scheduler) about it later."""

    executor: str
    job_id: str
    trial_number: int
    log_path: str | None = None


class Executor(ABC):
    """Runs `TrialTask`s. `submit` returns once the work is queued (debug: once it has finished)."""

    name: str
    capacity: int | None = None
    """Trials worth submitting at once (None: all); the driver keeps at most this many in flight."""
    batch: int = 1
    """Trials one worker trains together as one batched computation (`launcher.batch`; 1: one per process)."""
    detached: bool = False
    """Jobs outlive the driver and the scheduler knows them: the driver may exit once they are queued, and a
    later run asks the scheduler (`states`) which of them died without reporting."""

    @property
    def concurrency(self) -> int:
        """Trials that can run at once: how many an adaptive sampler (TPE) keeps proposed and in flight."""
        return self.capacity or 1

    @classmethod
    def from_config(cls, launcher: Mapping[str, Any], study_dir: Path) -> Executor:
        """Build from the `launcher` config group; `study_dir` is where per-job files may go."""
        raise NotImplementedError(f"{cls.__name__} cannot be built from a launcher config (define from_config)")

    @abstractmethod
    def submit(self, tasks: list[TrialTask]) -> list[JobRef]:
        """Queue every task; the workers report results to the study's storage themselves."""

    def submit_groups(self, groups: list[list[TrialTask]]) -> list[JobRef]:
        """Queue each group for one worker that trains its trials together (`batch` > 1); one JobRef per task, in
        order. An executor without batched workers runs each trial on its own."""
        return self.submit([task for group in groups for task in group])

    @abstractmethod
    def states(self, jobs: list[JobRef]) -> dict[JobRef, str]:
        """Scheduler-side state of each job: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, LOST..."""

    def cancel(self, jobs: list[JobRef]) -> None:
        """End these jobs at the scheduler (`gan-sweep cancel`); only detached executors have jobs to cancel."""
        raise NotImplementedError(f"launcher={self.name} has no jobs outside its driver to cancel")

    def request_stop(self) -> None:
        """Tell running trials to checkpoint and stop, without waiting: called from the driver's signal handler
        (it may interrupt the driver anywhere), before the driver's loop calls `stop`."""

    def stop(self) -> None:
        """Ask running trials to checkpoint and stop (Ctrl-C of the driver); queued work is dropped."""
