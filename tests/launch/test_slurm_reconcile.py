"""Reconciliation against the real scheduler: held jobs stand for queued work, scancel for jobs that died.

Four trials, one held job each: trials 0 and 1 as if a worker had claimed them (RUNNING), 2 and 3 still
WAITING; the jobs of 1 and 3 are cancelled. Then 0 runs, 1 is lost (requeued), 2 is queued, 3 is lost
(re-submitted), and a new submission re-uses the live jobs and creates new ones for the others only.
"""
from __future__ import annotations

import subprocess
import time

import optuna
import pytest
from optuna.trial import TrialState

from gan_study.launch.reconcile import requeue_lost
from gan_study.launch.slurm import SlurmExecutor, scheduler_states
from gan_study.launch.status import status_counts
from gan_study.study.search.storage import open_storage
from tests.launch.slurm_testkit import cancel, slurm_settings, tasks

pytestmark = pytest.mark.slurm


def wait_for_state(job_ids: list[str], state: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while set(scheduler_states(job_ids).values()) != {state}:
        assert time.monotonic() < deadline, f"jobs {job_ids} never reached {state}: {scheduler_states(job_ids)}"
        time.sleep(0.25)


def test_queued_running_and_lost_trials_are_told_apart_and_only_lost_ones_resubmitted(slurm_cluster, tmp_path):
    # max_array_size=1: one plain job per trial (a pending array task cancelled alone vanishes from squeue
    # and sacct alike; a plain job stays CANCELLED, as a started array task does)
    executor = SlurmExecutor(slurm_settings(partition=slurm_cluster, timeout_min=5, cpus_per_task=1, mem_gb=1,
                                            max_array_size=1, signal_delay_s=30, sbatch_extra={"hold": True}))
    trial_tasks = tasks(4, tmp_path)
    refs = executor.submit(trial_tasks)
    try:
        storage = open_storage(trial_tasks[0].storage_url)
        study = optuna.load_study(study_name="held", storage=storage)
        trial_ids = [t._trial_id for t in study.get_trials(deepcopy=False)]
        for trial_id, ref in zip(trial_ids[:2], refs):  # as a worker claims its trial
            storage.set_trial_state_values(trial_id, TrialState.RUNNING)
            storage.set_trial_user_attr(trial_id, "job_id", ref.job_id)
        subprocess.run(["scancel", refs[1].job_id, refs[3].job_id], check=True)
        wait_for_state([refs[1].job_id, refs[3].job_id], "CANCELLED")

        counts = status_counts(trial_tasks[0].storage_url, ["held"], executor)
        assert dict(counts["?"]) == {"running": 1, "lost": 2, "queued": 1}

        assert requeue_lost(trial_tasks[0].storage_url, study, executor) == {1: "requeued"}
        lost = storage.get_trial(trial_ids[1])
        assert lost.state == TrialState.WAITING and lost.user_attrs["requeues"] == 1
        assert f"its job {refs[1].job_id} ended CANCELLED" in lost.user_attrs["requeue_reason"]
        assert storage.get_trial(trial_ids[0]).state == TrialState.RUNNING  # its job is alive: untouched

        again = executor.submit(trial_tasks[1:])
        assert again[1] == refs[2]  # still queued: not submitted twice
        assert again[0].job_id not in {r.job_id for r in refs} and again[2].job_id not in {r.job_id for r in refs}
        submitted = optuna.load_study(study_name="held", storage=storage).user_attrs["submitted_jobs"]
        assert [submitted[str(n)][0] for n in range(4)] == [refs[0].job_id, again[0].job_id, refs[2].job_id,
                                                            again[2].job_id]
    finally:
        cancel(refs + (again if "again" in locals() else []))
