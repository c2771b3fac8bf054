"""`gan-sweep ... launcher=slurm` end to end on the real single-node SLURM, with the real trainer.

Each test runs the real CLI (`python -m gan_study.launch.sweep`, what the `gan-sweep` script calls) as a subprocess:
Triangles, `train=tiny` step counts, the cheap Triangles precision as the objective, one CPU per array task
(the node's 2 fake GPUs are scheduling tokens only, so at most 2 array tasks run at once). The driver exits
once the jobs are queued (follow=false, the default); the tests then wait on the storage, as a user would.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from gan_study.launch.reconcile import submitted_jobs
from gan_study.launch.slurm import scheduler_states
from gan_study.study.search.storage import open_storage
from gan_study.study.train.run_folder import RunFolder

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NS_GAN = "triangles-wide-ns_gan"  # the default study name: {dataset}-{search}-{model}
LSGAN = "triangles-wide-lsgan"


def sweep_command(tmp_path: Path, data_root: Path, partition: str, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "gan_study.launch.sweep", "dataset=triangles", "train=tiny", "train.log_every_steps=1",
            "eval=none", "+eval.metrics.triangles_pr={n:8,recall:false,bank_grid:4,steps:5,batch_size:8}",
            "objective.metric=precision_median_distance", "launcher=slurm",
            f"launcher.partition={partition}", "launcher.cpus_per_task=1", "launcher.mem_gb=2",
            "launcher.timeout_min=10", "launcher.signal_delay_s=60",
            f"storage.url=journal:{tmp_path / 'gan.journal'}", f"runs_root={tmp_path / 'runs'}",
            f"data_root={data_root}", f"cache_dir={tmp_path / 'cache'}", "poll_s=1", "heartbeat.interval_s=2",
            "heartbeat.grace_s=120", f"hydra.run.dir={tmp_path / 'hydra'}", *overrides]


def load(tmp_path: Path, study: str) -> optuna.Study:
    return optuna.load_study(study_name=study, storage=open_storage(f"journal:{tmp_path / 'gan.journal'}"))


def trials_of(tmp_path: Path, study: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return load(tmp_path, study).get_trials(deepcopy=False)
    except KeyError:
        return []


def all_complete(tmp_path: Path, *studies: str) -> bool:
    return all(t.state == TrialState.COMPLETE for study in studies for t in trials_of(tmp_path, study))


def record(tmp_path: Path, study: str, number: int) -> dict:
    return json.loads((tmp_path / "runs" / study / str(number) / "record.json").read_text())


def evaluated_steps(run_dir: Path) -> list[int]:
    return [int(row["step"]) for row in RunFolder(run_dir).read_metrics()]


def wait_until(condition, what: str, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(0.2)


def run_sweep(command: list[str]) -> str:
    """Run the command to its end (exit code 0); its output (the driver logs through Hydra's console handler)."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout + done.stderr


def gan_sweep(tmp_path: Path, *words: str) -> str:
    """`gan-sweep status|logs ...` through the console script's entry point on the test's storage: its stdout."""
    done = subprocess.run([sys.executable, "-m", "gan_study.launch.sweep", *words,
                           f"storage.url=journal:{tmp_path / 'gan.journal'}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def status_line(model: str, queued=0, running=0, done=0, diverged=0, pruned=0, failed=0, lost=0, width=6) -> str:
    """One row of `gan-sweep status` (model column `width` wide, then 8-wide numbers two spaces apart)."""
    return f"{model:<{width}}  " + "  ".join(f"{n:>8}" for n in (queued, running, done, diverged, pruned, failed,
                                                                   lost))


def restarts(job_id: str) -> int:
    out = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Restarts=(\d+)", out).group(1))


def test_the_driver_exits_once_queued_and_a_two_model_study_completes_with_packed_trials_each_recorded_once(
        slurm_cluster, tmp_path, data_root):
    command = sweep_command(tmp_path, data_root, slurm_cluster, "models=[ns_gan,lsgan]", "n_trials=3",
                            "train.steps=4", "train.eval_every_steps=2", "launcher.trials_per_gpu=2")
    output = run_sweep(command)
    # 4 array tasks for 2 fake GPUs: half of them cannot even have started when the driver returns
    assert not all_complete(tmp_path, NS_GAN, LSGAN)
    assert f"gan-sweep status study={NS_GAN} study={LSGAN} storage.url=journal:{tmp_path / 'gan.journal'}" in output
    wait_until(lambda: all_complete(tmp_path, NS_GAN, LSGAN), "every trial to complete without the driver")
    recorded = {study: submitted_jobs(load(tmp_path, study)) for study in (NS_GAN, LSGAN)}
    claimed = {study: [t.user_attrs["job_id"] for t in trials_of(tmp_path, study)] for study in (NS_GAN, LSGAN)}

    again = run_sweep(command)  # reconciles: everything finished, so nothing is submitted again
    assert "submitted" not in again
    assert {study: submitted_jobs(load(tmp_path, study)) for study in (NS_GAN, LSGAN)} == recorded
    assert {study: [t.user_attrs["job_id"] for t in trials_of(tmp_path, study)] for study in (NS_GAN, LSGAN)} == claimed

    assert gan_sweep(tmp_path, "status", "study=triangles-wide-*").splitlines() == [
        "model     queued   running      done  diverged    pruned    failed      lost",
        status_line("lsgan", done=3), status_line("ns_gan", done=3), status_line("total", done=6)]
    printed = gan_sweep(tmp_path, "logs", f"study={NS_GAN}", "trial=1")
    job = claimed[NS_GAN][1]
    folder = tmp_path / "runs" / NS_GAN / "logs" / job
    assert [line for line in printed.splitlines() if line.startswith("==>")] == [
        f"==> {folder / name} <==" for name in ("trial_1.out", "trial_1.err", f"{job}_0_log.err", f"{job}_0_log.out")]
    assert f"trial 1 of {NS_GAN}: completed" in printed

    for study in (NS_GAN, LSGAN):
        trials = trials_of(tmp_path, study)
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
        assert all(t.user_attrs["status"] == "completed" and t.user_attrs["steps"] == 4 for t in trials)
        jobs = [t.user_attrs["job_id"] for t in trials]
        # trials_per_gpu=2: trials 0 and 1 ran side by side in one array task, trial 2 in the next one
        assert re.fullmatch(r"\d+_0", jobs[0]) and jobs[1] == jobs[0] and jobs[2] == jobs[0][:-1] + "1"
        assert set(scheduler_states(jobs).values()) == {"COMPLETED"}
        for trial in trials:  # its own log, linked from the trial, in the study's folder
            log_path = Path(trial.user_attrs["log_path"])
            assert log_path == tmp_path / "runs" / study / "logs" / trial.user_attrs["job_id"] / \
                f"trial_{trial.number}.out"
            assert f"trial {trial.number} of {study}: completed" in log_path.with_suffix(".err").read_text()
            assert record(tmp_path, study, trial.number)["resumed_from_step"] is None  # ran once, never resumed
        assert trials[0].params != trials[1].params  # two different trials, not one trial twice


def test_time_limit_signal_and_scontrol_requeue_each_resume_the_trial_from_its_checkpoint(slurm_cluster, tmp_path,
                                                                                          data_root):
    """USR2 (what SLURM sends before the time limit): submitit's checkpoint() requeues the array task itself;
    `scontrol requeue` (what an admin or preemption does): SIGTERM, and SLURM requeues it. Both on one trial."""
    steps, every = 60, 20
    run_sweep(sweep_command(tmp_path, data_root, slurm_cluster, "model=ns_gan", "n_trials=1", f"train.steps={steps}",
                            f"train.eval_every_steps={every}"))
    run_dir = tmp_path / "runs" / NS_GAN / "0"
    wait_until(lambda: every in evaluated_steps(run_dir), "the trial's first checkpoint")
    job_id = trials_of(tmp_path, NS_GAN)[0].user_attrs["job_id"]
    subprocess.run(["scancel", "--signal=USR2", job_id], check=True)
    wait_until(lambda: restarts(job_id) == 1 and 2 * every in evaluated_steps(run_dir),
               "the task requeued by submitit to resume and pass its next checkpoint")
    subprocess.run(["scontrol", "requeue", job_id], check=True)
    wait_until(lambda: all_complete(tmp_path, NS_GAN), "the resumed trial")
    trial = trials_of(tmp_path, NS_GAN)[0]
    log = Path(trial.user_attrs["log_path"]).with_suffix(".err").read_text()
    stops = list(dict.fromkeys(int(step) for step in re.findall(r"stopped at step (\d+)", log)))
    assert len(stops) == 2 and every <= stops[0] < 2 * every <= stops[1] < steps, stops  # one stop per signal
    done = record(tmp_path, NS_GAN, 0)
    assert done["status"] == "completed" and done["steps"] == steps
    assert done["resumed_from_step"] == stops[1]  # resumed exactly where the last signal stopped it
    assert done["resumed_from_step"] + done["steps_run_this_process"] == steps  # no step run twice
    assert evaluated_steps(run_dir) == [every, 2 * every, steps]  # no evaluation lost or repeated
    assert trial.user_attrs["job_id"] == job_id and restarts(job_id) == 2  # the same job, requeued twice
    assert "requeues" not in trial.user_attrs  # given back by its worker each time, never presumed lost


def test_a_cancelled_job_shows_as_lost_and_the_next_sweep_runs_only_its_trial_again(slurm_cluster, tmp_path,
                                                                                      data_root):
    command = sweep_command(tmp_path, data_root, slurm_cluster, "model=ns_gan", "n_trials=2", "train.steps=40",
                            "train.eval_every_steps=10")
    run_sweep(command)  # the driver is gone, the jobs stay queued or running
    run1 = tmp_path / "runs" / NS_GAN / "1"
    wait_until(lambda: 10 in evaluated_steps(run1), "trial 1's first checkpoint")
    cancelled = trials_of(tmp_path, NS_GAN)[1].user_attrs["job_id"]
    subprocess.run(["scancel", cancelled], check=True)
    wait_until(lambda: trials_of(tmp_path, NS_GAN)[0].state == TrialState.COMPLETE, "trial 0 to finish")
    wait_until(lambda: trials_of(tmp_path, NS_GAN)[1].state == TrialState.WAITING, "trial 1 given back")
    kept = trials_of(tmp_path, NS_GAN)[0].user_attrs["job_id"]
    # trial 1 waits for a job that will never run it: lost, until the next gan-sweep re-submits it
    assert gan_sweep(tmp_path, "status", f"study={NS_GAN}").splitlines()[1:] == [
        status_line("ns_gan", done=1, lost=1), status_line("total", done=1, lost=1)]

    run_sweep([*command, "follow=true"])  # stays until its jobs have ended
    trials = trials_of(tmp_path, NS_GAN)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]  # no third trial
    assert trials[0].user_attrs["job_id"] == kept  # finished: not submitted again
    assert record(tmp_path, NS_GAN, 0)["resumed_from_step"] is None
    rerun = trials[1].user_attrs["job_id"]
    assert rerun != cancelled and scheduler_states([cancelled, rerun]) == {cancelled: "CANCELLED",
                                                                           rerun: "COMPLETED"}
    again = record(tmp_path, NS_GAN, 1)
    assert again["steps"] == 40 and again["resumed_from_step"] >= 10  # from its checkpoint, not from scratch
    assert again["resumed_from_step"] + again["steps_run_this_process"] == 40


def test_a_trial_killed_without_reporting_is_requeued_by_the_next_sweep_at_once_and_resumes(slurm_cluster, tmp_path,
                                                                                          data_root):
    """kill -9 of the trial's process: no checkpoint, no report; its array task still ends COMPLETED. The next
    run gives the trial back through the scheduler's answer (requeue_lost), not its heartbeat (grace 120 s)."""
    steps, every = 40, 10
    command = sweep_command(tmp_path, data_root, slurm_cluster, "model=ns_gan", "n_trials=1", f"train.steps={steps}",
                            f"train.eval_every_steps={every}")
    run_sweep(command)
    run_dir = tmp_path / "runs" / NS_GAN / "0"
    # the evaluation's row comes before its checkpoint (written, then renamed into place): wait for the file
    wait_until(lambda: RunFolder(run_dir).checkpoint.exists(), "the trial's first checkpoint")
    trial = trials_of(tmp_path, NS_GAN)[0]
    killed = trial.user_attrs["job_id"]
    os.kill(trial.user_attrs["worker"]["pid"], signal.SIGKILL)
    wait_until(lambda: scheduler_states([killed])[killed] == "COMPLETED", "the array task to end")
    assert trials_of(tmp_path, NS_GAN)[0].state == TrialState.RUNNING  # nobody reported: a lost trial

    run_sweep([*command, "follow=true"])
    trial = trials_of(tmp_path, NS_GAN)[0]
    assert trial.state == TrialState.COMPLETE and trial.user_attrs["requeues"] == 1
    assert trial.user_attrs["requeue_reason"] == f"its job {killed} ended COMPLETED without reporting"
    assert trial.user_attrs["job_id"] != killed
    done = record(tmp_path, NS_GAN, 0)
    assert done["status"] == "completed" and done["resumed_from_step"] in (every, 2 * every, 3 * every)
    assert done["resumed_from_step"] + done["steps_run_this_process"] == steps  # from its checkpoint, no step twice
    assert evaluated_steps(run_dir) == [every, 2 * every, 3 * every, steps]


def test_cancel_ends_the_studys_jobs_and_the_next_sweep_resumes_its_trials(slurm_cluster, tmp_path, data_root):
    steps = 100  # still training when `gan-sweep cancel` stops them (at steps 20 and 40 on 2 loaded cores)
    command = sweep_command(tmp_path, data_root, slurm_cluster, "model=ns_gan", "n_trials=2", f"train.steps={steps}",
                            "train.eval_every_steps=10")
    run_sweep(command)
    runs = [tmp_path / "runs" / NS_GAN / str(n) for n in range(2)]
    wait_until(lambda: all(evaluated_steps(run) for run in runs), "both trials' first checkpoints")
    jobs = sorted({job for job, _ in submitted_jobs(load(tmp_path, NS_GAN)).values()})

    printed = gan_sweep(tmp_path, "cancel", f"study={NS_GAN}")
    assert printed.splitlines()[0] == f"{NS_GAN}: cancelled 2 job(s) ({', '.join(jobs)}); 2 trial(s) back in the queue"
    assert set(scheduler_states(jobs).values()) == {"CANCELLED"}
    assert [t.state for t in trials_of(tmp_path, NS_GAN)] == [TrialState.WAITING] * 2  # nothing lost, nothing failed
    stopped = [evaluated_steps(run)[-1] for run in runs]
    assert all(step < steps for step in stopped)
    assert gan_sweep(tmp_path, "status", f"study={NS_GAN}").splitlines()[1:] == [
        status_line("ns_gan", lost=2), status_line("total", lost=2)]  # queued for a job that will never run

    run_sweep([*command, "follow=true"])  # the same command: both trials again, from their checkpoints
    trials = trials_of(tmp_path, NS_GAN)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2 and len(trials) == 2
    for number, step in enumerate(stopped):
        again = record(tmp_path, NS_GAN, number)
        assert again["steps"] == steps and again["resumed_from_step"] is not None and again["resumed_from_step"] >= step


def test_batched_groups_one_array_task_each_and_scontrol_requeue_resumes_each_trial_from_its_checkpoint(
        slurm_cluster, tmp_path, data_root):
    """launcher.batch=2 with n_disc fixed: trials {0, 1} draw D's batch norm on, {2, 3} off (two group keys), so
    two array tasks of two trials each. `scontrol requeue` of the first (SIGTERM, then SLURM runs it again): each
    of its trials resumes from its own checkpoint (the one SIGTERM made, or its last evaluation's where this test
    cluster's KillWait of 5 s ends the group before it has saved both; then the requeued job takes the trial back)."""
    steps, every = 20, 5
    run_sweep(sweep_command(tmp_path, data_root, slurm_cluster, "model=ns_gan", "n_trials=4", "launcher.batch=2",
                            "~search.space.params.n_disc", f"train.steps={steps}", f"train.eval_every_steps={every}"))
    runs = [tmp_path / "runs" / NS_GAN / str(n) for n in range(4)]
    wait_until(lambda: all(RunFolder(run).checkpoint.exists() for run in runs[:2]), "trials 0 and 1 checkpointed")
    job_id = trials_of(tmp_path, NS_GAN)[0].user_attrs["job_id"]
    subprocess.run(["scontrol", "requeue", job_id], check=True)
    wait_until(lambda: all_complete(tmp_path, NS_GAN), "every trial", timeout_s=360)

    trials = trials_of(tmp_path, NS_GAN)
    jobs = [t.user_attrs["job_id"] for t in trials]
    assert jobs[0] == jobs[1] == job_id and jobs[2] == jobs[3] == job_id[:-1] + "1"  # one array task per group
    assert [Path(t.user_attrs["log_path"]).name for t in trials] == ["trial_0+1.out"] * 2 + ["trial_2+3.out"] * 2
    assert restarts(job_id) == 1
    for number, run in enumerate(runs):
        done = record(tmp_path, NS_GAN, number)
        assert done["status"] == "completed" and done["steps"] == steps
        resumed = done["resumed_from_step"]
        assert (resumed is not None and every <= resumed < steps) if number < 2 else resumed is None
        assert (resumed or 0) + done["steps_run_this_process"] == steps  # no step run twice
        assert evaluated_steps(run) == list(range(every, steps + 1, every))  # no evaluation lost or repeated
