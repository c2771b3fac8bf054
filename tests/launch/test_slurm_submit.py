"""What launcher=slurm hands the real scheduler: the sbatch script, the resources SLURM records, the array split.

Jobs are submitted held (`--hold`), inspected, then cancelled: nothing runs, each test takes about a second.
"""
from __future__ import annotations

import contextlib
import re
import subprocess
import time
from dataclasses import replace

import optuna
import pytest

import gan_study.launch.slurm
from gan_study.launch.slurm import SlurmExecutor, cluster_max_array_size, scheduler_states
from gan_study.study.search.storage import open_storage
from gan_study.study.search.task import TrialTask
from tests.launch.slurm_testkit import cancel, slurm_settings, tasks

pytestmark = pytest.mark.slurm


def scontrol_job(job_id: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True, check=True)
    first = out.stdout.splitlines()[0]
    return dict(item.split("=", 1) for item in first.split() if "=" in item)


@contextlib.contextmanager
def submitted_tasks(executor: SlurmExecutor, trial_tasks: list[TrialTask]):
    """Submit the trials (held by the config), yield their JobRefs, cancel them whatever happens."""
    refs = executor.submit(trial_tasks)
    try:
        yield refs
    finally:
        cancel(refs)


def submitted(executor: SlurmExecutor, n: int, tmp_path):
    return submitted_tasks(executor, tasks(n, tmp_path))


@pytest.fixture
def configured(slurm_cluster, tmp_path):
    """An executor with every launcher field set to a value the single-node cluster accepts."""
    settings = slurm_settings(partition=slurm_cluster, account="ml", qos="normal", constraint="ci", timeout_min=7,
                              gpus_per_node=1, cpus_per_task=1, mem_gb=1, trials_per_gpu=2, array_parallelism=2,
                              signal_delay_s=45, job_name="gan-paper",
                              sbatch_extra={"hold": True, "mail-type": "END"},
                              setup=["export GAN_STUDY_SETUP_RAN=1", "echo setup done"])
    return settings, SlurmExecutor(settings)


def test_the_sbatch_script_carries_every_configured_resource(configured, tmp_path):
    settings, executor = configured
    with submitted(executor, 5, tmp_path) as refs:  # 5 trials, 2 per GPU -> one array of 3 tasks
        array_id = refs[0].job_id.split("_")[0]
        script = (tmp_path / "runs" / "logs" / array_id / f"{array_id}_submission.sh").read_text()
    flags = dict(re.findall(r"^#SBATCH --([\w-]+)(?:=(.*))?$", script, re.MULTILINE))
    expected = {"partition": settings.partition, "account": "ml", "qos": "normal", "constraint": "ci",
                "time": "7", "gpus-per-node": "1", "cpus-per-task": "1", "mem": "1GB", "job-name": "gan-paper",
                "array": "0-2%2", "signal": "USR2@45", "hold": "", "mail-type": "END"}
    assert {key: flags.get(key) for key in expected} == expected
    assert flags["output"].endswith("runs/logs/%A_%a/%A_%a_0_log.out")
    setup = script.index("# setup")
    assert script.index("export GAN_STUDY_SETUP_RAN=1", setup) < script.index("echo setup done") < script.index("srun")


def test_slurm_records_the_configured_resources(configured, tmp_path):
    settings, executor = configured
    with submitted(executor, 3, tmp_path) as refs:
        job = scontrol_job(refs[0].job_id)
    expected = {"Partition": settings.partition, "TimeLimit": "00:07:00", "NumCPUs": "1", "MinMemoryNode": "1G",
                "TresPerNode": "gres:gpu:1", "QOS": "normal", "Features": "ci", "JobName": "gan-paper",
                "ArrayTaskThrottle": "2", "Reason": "JobHeldUser", "MailType": "END"}
    assert {key: job.get(key) for key in expected} == expected


def test_packed_trials_share_their_array_task_and_logs_are_per_trial(configured, tmp_path):
    _, executor = configured
    with submitted(executor, 5, tmp_path) as refs:
        array_id = refs[0].job_id.split("_")[0]
    assert [(r.trial_number, r.job_id) for r in refs] == [
        (0, f"{array_id}_0"), (1, f"{array_id}_0"), (2, f"{array_id}_1"), (3, f"{array_id}_1"), (4, f"{array_id}_2")]
    assert {r.log_path for r in refs} == {
        str(tmp_path / "runs" / "logs" / r.job_id / f"trial_{r.trial_number}.out") for r in refs}


def test_large_studies_are_split_into_arrays_of_at_most_max_array_size(slurm_cluster, tmp_path):
    settings = slurm_settings(partition=slurm_cluster, timeout_min=5, cpus_per_task=1, mem_gb=1, max_array_size=2,
                              signal_delay_s=30, sbatch_extra={"hold": True})
    with submitted(SlurmExecutor(settings), 5, tmp_path) as refs:
        arrays: dict[str, list[str]] = {}
        for ref in refs:
            main, _, index = ref.job_id.partition("_")
            arrays.setdefault(main, []).append(index)
    # 5 trials, 2 per array: three sbatch calls; a one-task remainder is submitted as a plain job
    assert sorted(arrays.values(), key=len) == [[""], ["0", "1"], ["0", "1"]]
    assert [r.trial_number for r in refs] == [0, 1, 2, 3, 4]


def test_max_array_size_is_read_from_the_cluster(slurm_cluster):
    # tests/infra/start_single_node_slurm.sh leaves MaxArraySize at Slurm's default
    assert cluster_max_array_size() == 1001


def test_jobs_too_new_for_accounting_are_seen_pending(configured, tmp_path):
    _, executor = configured
    with submitted(executor, 5, tmp_path) as refs:
        states = executor.states(refs)  # at once: slurmdbd records a submission only seconds later
    assert set(states) == set(refs) and set(states.values()) == {"PENDING"}


def test_job_states_come_from_one_scheduler_call(configured, tmp_path, monkeypatch):
    _, executor = configured
    refs = executor.submit(tasks(5, tmp_path)) + executor.submit(tasks(2, tmp_path))  # two arrays, 7 trials
    cancel(refs)
    calls = []
    real_scheduler = gan_study.launch.slurm._scheduler
    monkeypatch.setattr(gan_study.launch.slurm, "_scheduler", lambda command: calls.append(command) or real_scheduler(command))
    states = {}
    for _ in range(60):  # the controller marks the cancelled array CANCELLED within a moment
        calls.clear()
        states = executor.states(refs)
        if set(states.values()) == {"CANCELLED"}:
            break
        time.sleep(0.25)
    assert set(states) == set(refs) and set(states.values()) == {"CANCELLED"}
    assert len(calls) == 1 and calls[0][:4] == ["squeue", "-h", "-t", "all"]  # no sacct: all still in squeue
    assert scheduler_states(["1"]) == {"1": "UNKNOWN"}


def test_each_study_gets_its_own_array_and_log_folder_and_refs_keep_the_task_order(configured, tmp_path):
    _, executor = configured
    a = [replace(t, run_dir=str(tmp_path / "runs" / "a" / str(t.trial_number))) for t in tasks(2, tmp_path, "a")]
    b = [replace(t, run_dir=str(tmp_path / "runs" / "b" / str(t.trial_number))) for t in tasks(2, tmp_path, "b")]
    refs = executor.submit([a[0], b[0], a[1], b[1]])
    cancel(refs)
    assert [r.trial_number for r in refs] == [0, 0, 1, 1]
    assert refs[0].job_id == refs[2].job_id and refs[1].job_id == refs[3].job_id != refs[0].job_id  # packed by 2
    assert refs[0].log_path == str(tmp_path / "runs" / "a" / "logs" / refs[0].job_id / "trial_0.out")
    assert refs[3].log_path == str(tmp_path / "runs" / "b" / "logs" / refs[3].job_id / "trial_1.out")


def test_submission_records_each_job_and_is_idempotent_while_the_job_lives(configured, tmp_path):
    _, executor = configured
    trials = tasks(3, tmp_path)
    with submitted_tasks(executor, trials) as first:
        study = optuna.load_study(study_name="held", storage=open_storage(trials[0].storage_url))
        assert study.user_attrs["submitted_jobs"] == {str(task.trial_number): [ref.job_id, ref.log_path]
                                                      for task, ref in zip(trials, first)}
        assert executor.submit(trials) == first  # queued already: the same jobs, no second sbatch
        assert len(list((tmp_path / "runs" / "logs").glob("*/*_submission.sh"))) == 1
    with submitted_tasks(executor, trials) as after_cancel:  # the cancelled jobs no longer hold their trials
        assert {ref.job_id for ref in after_cancel}.isdisjoint(ref.job_id for ref in first)
