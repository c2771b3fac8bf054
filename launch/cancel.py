"""`gan-sweep cancel`: end a study's queued and running jobs and give their trials back to the queue.

Nothing finished is touched. A running trial's job gets SIGTERM from scancel: its worker checkpoints and puts
the trial back to WAITING itself; a trial whose job ends without reporting (killed before it could) is put
back here, once the scheduler says the job has ended. Re-running the sweep command submits them again, and
each resumes from its last checkpoint.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from optuna.trial import TrialState

from gan_study.launch.base import TERMINAL, Executor, JobRef
from gan_study.launch.reconcile import current_job, is_live, submitted_jobs
from gan_study.launch.status import matching_studies
from gan_study.study.search.study import load_study, requeue


@dataclass
class Cancelled:
    """What `cancel` did to one study."""

    study: str
    jobs: list[str] = field(default_factory=list)
    trials: list[int] = field(default_factory=list)
    """Unfinished trials whose job was cancelled: all WAITING again when `cancel` returns."""


def cancel_studies(url: str, patterns: list[str], executor: Executor, wait_s: float = 300.0,
                   poll_s: float = 1.0) -> list[Cancelled]:
    """Cancel the live jobs of every matching study, wait for them to end, then requeue what they left RUNNING."""
    outcomes, held = [], {}
    for name in matching_studies(url, patterns):
        study = load_study(url, name)
        submitted = submitted_jobs(study)
        refs = [ref for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING))
                if (ref := current_job(trial, submitted, executor)) is not None]
        states = executor.states(refs) if refs else {}
        live = [ref for ref in refs if is_live(states[ref])]
        held[name] = (study, live)
        outcomes.append(Cancelled(name, sorted({ref.job_id for ref in live}, key=lambda j: (len(j), j)),
                                  sorted(ref.trial_number for ref in live)))
    every = [ref for _, live in held.values() for ref in live]
    executor.cancel(every)
    _wait_until_ended(executor, every, wait_s, poll_s)
    for name, (study, live) in held.items():
        for ref in live:  # acts only on a trial still RUNNING under that job (its worker could not report)
            requeue(url, study, ref.trial_number, f"its job {ref.job_id} was cancelled (gan-sweep cancel)",
                    job_id=ref.job_id)
    return outcomes


def _wait_until_ended(executor: Executor, jobs: list[JobRef], wait_s: float, poll_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while jobs and not all(state in TERMINAL for state in executor.states(jobs).values()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the cancelled jobs did not end within {wait_s:.0f} s; run gan-sweep cancel again")
        time.sleep(poll_s)


def format_cancelled(outcomes: list[Cancelled]) -> str:
    lines = [f"{o.study}: cancelled {len(o.jobs)} job(s) ({', '.join(o.jobs) or 'none live'}); "
             f"{len(o.trials)} trial(s) back in the queue" for o in outcomes]
    if any(o.trials for o in outcomes):
        lines.append("re-run the sweep command to submit them again (each resumes from its last checkpoint)")
    return "\n".join(lines) + "\n"
