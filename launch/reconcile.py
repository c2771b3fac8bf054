"""The study's storage against the scheduler, for jobs that outlive the driver (SLURM).

`gan-sweep` may exit once its jobs are queued, and the user may come back days later. Each submission is
recorded in the study (`submitted_jobs`: trial number -> job id, log path; one storage write per submission,
not per trial), and the worker that claims a trial names its job on the trial (`job_id`, `log_path`). One
scheduler query for all of them then tells, for every unfinished trial, whether a job still holds it:

- a WAITING trial whose job is queued or running (or was requeued after preemption) is not submitted again;
- a WAITING trial whose job is gone (cancelled, failed, its trial given back on SIGTERM) is submitted again;
- a RUNNING trial whose job ended died without reporting (SIGKILL, OOM, node failure): it is given back to
  WAITING (`gan_study.study.search.study.requeue`, which re-checks under the study lock) and resumes from its
  checkpoint. Finished trials are never touched, so nothing completed runs again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from gan_study.launch.base import TERMINAL, Executor, JobRef
from gan_study.study.search.storage import open_storage, study_lock
from gan_study.study.search.study import requeue
from gan_study.study.search.task import TrialTask

log = logging.getLogger("gan_study.launch")

SUBMITTED_JOBS = "submitted_jobs"
"""Study user attribute: {trial number (str): [job id, log path]} of the latest submission of each trial."""


def is_live(state: str) -> bool:
    """Queued, running, requeued or suspended: the job will still run (or is running) its trials."""
    return state not in TERMINAL and state != "UNKNOWN"


def current_job(trial: FrozenTrial, submitted: dict, executor: Executor) -> JobRef | None:
    """The job that holds an unfinished trial: the one that claimed it (RUNNING), else its latest submission."""
    claimed = (trial.user_attrs.get("job_id"), trial.user_attrs.get("log_path"))
    job_id, log_path = claimed if trial.state == TrialState.RUNNING else submitted.get(str(trial.number), claimed)
    return JobRef(executor.name, job_id, trial.number, log_path) if job_id else None


def submitted_jobs(study: optuna.Study) -> dict:
    return study.user_attrs.get(SUBMITTED_JOBS) or {}


def _load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(url))


def _by_study(tasks: Sequence[TrialTask]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for index, task in enumerate(tasks):
        groups.setdefault((task.storage_url, task.study_name), []).append(index)
    return groups


def live_jobs(tasks: Sequence[TrialTask], executor: Executor) -> dict[int, JobRef]:
    """Index in `tasks` -> the queued or running job that already holds that trial (one scheduler query).

    Submitting those again would only start jobs that find their trial taken; the caller skips them.
    """
    recorded: dict[int, JobRef] = {}
    for (url, name), indices in _by_study(tasks).items():
        study = _load(url, name)
        submitted = submitted_jobs(study)
        trials = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,
                                                                                 TrialState.RUNNING))}
        for index in indices:
            trial = trials.get(tasks[index].trial_number)
            ref = current_job(trial, submitted, executor) if trial is not None else None
            if ref is not None:
                recorded[index] = ref
    states = executor.states(list(recorded.values())) if recorded else {}
    return {index: ref for index, ref in recorded.items() if is_live(states[ref])}


def record_jobs(tasks: Sequence[TrialTask], refs: Sequence[JobRef]) -> None:
    """Record each trial's new job in its study: one storage write per study, under the study lock."""
    for (url, name), indices in _by_study(tasks).items():
        with study_lock(url, name):
            study = _load(url, name)
            submitted = dict(submitted_jobs(study))
            submitted.update({str(tasks[i].trial_number): [refs[i].job_id, refs[i].log_path] for i in indices})
            study.set_user_attr(SUBMITTED_JOBS, submitted)


@dataclass(frozen=True)
class LostTrial:
    """A RUNNING trial whose job ended without its worker reporting."""

    number: int
    job_id: str
    job_state: str


def lost_trials(study: optuna.Study, executor: Executor) -> list[LostTrial]:
    """RUNNING trials whose claiming job has ended, from one scheduler query for the whole study."""
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    refs = [ref for ref in (current_job(t, {}, executor) for t in running) if ref is not None]
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
