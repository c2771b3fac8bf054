"""The study's storage against the scheduler, for jobs that outlive the driver (SLURM).

`gan-sweep` may exit once its jobs are queued, and the user may come back days later. Each trial records the
job that runs it (`job_id`, `log_path`); asking the scheduler about all of them at once (one `sacct` call)
tells, for every unfinished trial, whether a job still holds it:

- a WAITING trial whose job is queued or running (or was requeued after preemption) is not submitted again;
- a WAITING trial whose job ended (cancelled, failed, its trial given back on SIGTERM) is submitted again;
- a RUNNING trial whose job ended died without reporting (SIGKILL, OOM, node failure): it is given back to
  WAITING (`study.search.study.requeue`, which re-checks under the study lock) and resumes from its
  checkpoint. Finished trials are never touched, so nothing completed runs again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from launch.base import TERMINAL, Executor, JobRef
from study.search.storage import open_storage
from study.search.study import requeue
from study.search.task import TrialTask

log = logging.getLogger("gan_study.launch")


def is_live(state: str) -> bool:
    """Queued, running, requeued or suspended: the job will still run (or is running) its trials."""
    return state not in TERMINAL and state != "UNKNOWN"


def _trial(task: TrialTask) -> FrozenTrial:
    storage = open_storage(task.storage_url)
    study_id = storage.get_study_id_from_name(task.study_name)
    return storage.get_trial(storage.get_trial_id_from_study_id_trial_number(study_id, task.trial_number))


def recorded_job(trial: FrozenTrial, executor: Executor) -> JobRef | None:
    job_id = trial.user_attrs.get("job_id")
    return JobRef(executor.name, job_id, trial.number, trial.user_attrs.get("log_path")) if job_id else None


def live_jobs(tasks: Sequence[TrialTask], executor: Executor) -> dict[int, JobRef]:
    """Index in `tasks` -> the queued or running job that already holds that trial (one scheduler query).

    Submitting those again would only start jobs that find their trial taken; the caller skips them.
    """
    recorded: dict[int, JobRef] = {}
    for index, task in enumerate(tasks):
        trial = _trial(task)
        ref = recorded_job(trial, executor) if trial.state in (TrialState.WAITING, TrialState.RUNNING) else None
        if ref is not None:
            recorded[index] = ref
    states = executor.states(list(recorded.values())) if recorded else {}
    return {index: ref for index, ref in recorded.items() if is_live(states[ref])}


def record_jobs(tasks: Sequence[TrialTask], refs: Sequence[JobRef]) -> None:
    """Name each trial's job and log in the storage at submission (the worker confirms them when it starts)."""
    for task, ref in zip(tasks, refs):
        storage = open_storage(task.storage_url)
        study_id = storage.get_study_id_from_name(task.study_name)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, task.trial_number)
        storage.set_trial_user_attr(trial_id, "job_id", ref.job_id)
        storage.set_trial_user_attr(trial_id, "log_path", ref.log_path)


@dataclass(frozen=True)
class LostTrial:
    """A RUNNING trial whose job ended without its worker reporting."""

    number: int
    job_id: str
    job_state: str


def lost_trials(study: optuna.Study, executor: Executor) -> list[LostTrial]:
    """RUNNING trials whose recorded job has ended, from one scheduler query for the whole study."""
    running = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
    refs = [ref for ref in (recorded_job(t, executor) for t in running) if ref is not None]
    states = executor.states(refs) if refs else {}
    return [LostTrial(ref.trial_number, ref.job_id, states[ref]) for ref in refs if states[ref] in TERMINAL]


def requeue_lost(url: str, study: optuna.Study, executor: Executor, max_requeues: int | None = None) -> dict[int, str]:
    """Give every lost trial back to WAITING (FAIL after `max_requeues`); trial number -> requeue outcome.

    A trial that reported between the scheduler query and the requeue is skipped: `requeue` re-reads it
    under the study lock and only acts while it is RUNNING under the same job id.
    """
    outcomes = {}
    for lost in lost_trials(study, executor):
        outcomes[lost.number] = requeue(url, study, lost.number,
                                        f"its job {lost.job_id} ended {lost.job_state} without reporting",
                                        job_id=lost.job_id, max_requeues=max_requeues)
    return outcomes
