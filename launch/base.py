"""One interface for every way of running trials: in-process, a local process pool, SLURM."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from study.search.task import TrialTask


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

    @abstractmethod
    def submit(self, tasks: list[TrialTask]) -> list[JobRef]:
        """Queue every task; the workers report results to the study's storage themselves."""

    @abstractmethod
    def states(self, jobs: list[JobRef]) -> dict[JobRef, str]:
        """Scheduler-side state of each job: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, LOST..."""
