"""Submission overhead of launcher=slurm for a large study: time to queue it and scheduler calls made.

Every trial is a WAITING trial of a real study (journal file) and carries the fully resolved paper config
(ns_gan on MNIST), as `gan-sweep` submits it; the submit time includes reading each trial's recorded job
(idempotence) and writing its job id and log path (2 storage writes per trial). Jobs are
submitted held (`--hold`) to the real SLURM on this machine (tests/infra/start_single_node_slurm.sh), counted,
asked for their states once (what `gan-sweep status` and reconciliation cost), then cancelled. Scheduler calls
are counted by PATH shims in front of sbatch/sacct/scontrol/squeue/scancel, so nothing is estimated.
Baseline: one job per trial (`submitit` without arrays, as a naive loop over `executor.submit` does),
measured on --baseline-trials trials and reported per trial.

    python benchmarks/bench_submit.py [--trials 1000] [--baseline-trials 50]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import optuna
import submitit
from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan_study.launch.config_tree import compose_config  # noqa: E402
from gan_study.launch.packing import TrialGroup  # noqa: E402
from gan_study.launch.slurm import SlurmExecutor, SlurmSettings, cluster_max_array_size  # noqa: E402
from gan_study.study.config import validate  # noqa: E402
from gan_study.study.search.storage import open_storage  # noqa: E402
from gan_study.study.search.task import TrialTask  # noqa: E402
from gan_study.study.hardware import cpu_name  # noqa: E402

SCHEDULER_COMMANDS = ("sbatch", "sacct", "scontrol", "squeue", "scancel")
ROOT = Path(__file__).resolve().parents[1]


def install_shims(folder: Path, calls_log: Path) -> None:
    """Scripts named like the SLURM commands that log each call, then run the real command."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SCHEDULER_COMMANDS:
        real = shutil.which(name)
        if real is None:
            sys.exit(f"{name} not found: start the cluster with `bash tests/infra/start_single_node_slurm.sh`")
        shim = folder / name
        shim.write_text(f'#!/bin/sh\necho {name} >> "{calls_log}"\nexec "{real}" "$@"\n')
        shim.chmod(0o755)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"


def paper_config() -> dict:
    """The resolved run config of one paper trial (what each TrialTask carries)."""
    cfg = compose_config("config", ["model=ns_gan", "dataset=mnist", "eval=none"])
    return validate(OmegaConf.to_container(cfg, resolve=True)).to_dict()


def settings(**overrides) -> SlurmSettings:
    config = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "launcher" / "slurm.yaml"))
    return SlurmSettings.from_config({**config, "cpus_per_task": 1, "mem_gb": 1, "timeout_min": 60,
                                      "sbatch_extra": {"hold": True}, **overrides})


def cancel_all(job_ids) -> None:
    arrays = sorted({job_id.split("_")[0] for job_id in job_ids})
    for start in range(0, len(arrays), 500):
        subprocess.run(["scancel", *arrays[start:start + 500]], check=True)


def measure(label: str, submit, calls_log: Path, study_dir: Path) -> dict:
    calls_log.write_text("")
    cluster_max_array_size.cache_clear()
    started = time.perf_counter()
    job_ids, state_of = submit()
    submit_s = time.perf_counter() - started
    calls = Counter(calls_log.read_text().split())
    started = time.perf_counter()
    states = state_of()
    states_s = time.perf_counter() - started
    state_calls = sum(Counter(calls_log.read_text().split()).values()) - sum(calls.values())
    cancel_all(job_ids)
    files = [p for p in study_dir.rglob("*") if p.is_file()]
    return {"label": label, "submit_s": submit_s, "calls": calls, "jobs": len(set(job_ids)),
            "states_s": states_s, "state_calls": state_calls, "pending": sum(s == "PENDING" for s in states.values()),
            "files": len(files), "mb": sum(p.stat().st_size for p in files) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--baseline-trials", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_submit_"))
    calls_log = work / "calls.log"
    install_shims(work / "shims", calls_log)
    config = paper_config()

    def tasks(n: int, study: Path) -> list[TrialTask]:
        """n WAITING trials of a real study in a journal file, as `gan-sweep` creates them before submitting."""
        url = f"journal:{study / 'bench.journal'}"
        created = optuna.create_study(storage=open_storage(url), study_name="bench")
        for _ in range(n):
            created.enqueue_trial({})
        return [TrialTask(url, "bench", i, str(study / "runs" / str(i)), config) for i in range(n)]

    def ours(study: Path, n: int, already_queued: bool = False, **overrides):
        executor = SlurmExecutor(settings(**overrides))
        trial_tasks = tasks(n, study)
        if already_queued:  # `gan-sweep` run again while the first run's jobs wait in the queue
            executor.submit(trial_tasks)

        def submit():
            refs = executor.submit(trial_tasks)
            return [ref.job_id for ref in refs], lambda: executor.states(refs)
        return submit

    def one_job_per_trial(study: Path, n: int):
        executor = submitit.AutoExecutor(folder=study / "logs" / "%j", cluster="slurm")
        executor.update_parameters(**settings().submitit_parameters())
        trial_tasks = tasks(n, study)

        def submit():
            jobs = [executor.submit(TrialGroup([task])) for task in trial_tasks]
            return [job.job_id for job in jobs], lambda: {job.job_id: job.state for job in jobs}
        return submit

    rows = []
    for folder, label, make, n in [
        ("k1", "arrays, trials_per_gpu=1", lambda s: ours(s, args.trials), args.trials),
        ("k4", "arrays, trials_per_gpu=4", lambda s: ours(s, args.trials, trials_per_gpu=4), args.trials),
        ("split", "arrays of ≤250 (max_array_size=250)", lambda s: ours(s, args.trials, max_array_size=250),
         args.trials),
        ("again", "same study again while all queued (reconciled: nothing new)",
         lambda s: ours(s, args.trials, already_queued=True), args.trials),
        ("baseline", "baseline: one sbatch per trial", lambda s: one_job_per_trial(s, args.baseline_trials),
         args.baseline_trials),
    ]:
        row = measure(label, make(work / folder), calls_log, work / folder)
        row["trials"] = n
        rows.append(row)
        print(f"done: {label}", file=sys.stderr, flush=True)

    version = subprocess.run(["sinfo", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, {version} single node "
          f"(tests/infra/start_single_node_slurm.sh), submitit {submitit.__version__}, MaxArraySize "
          f"{cluster_max_array_size()}")
    print(f"command: python benchmarks/bench_submit.py --trials {args.trials} --baseline-trials "
          f"{args.baseline_trials}\n")
    print("| submission | trials | jobs (array tasks) | submit time s | ms / trial | scheduler calls to submit | "
          "states of all: time s | calls | PENDING seen | files (incl. journal) | MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        calls = ", ".join(f"{n} {name}" for name, n in sorted(row["calls"].items()))
        print(f"| {row['label']} | {row['trials']} | {row['jobs']} | {row['submit_s']:.2f} | "
              f"{1000 * row['submit_s'] / row['trials']:.2f} | {calls} | {row['states_s']:.2f} | "
              f"{row['state_calls']} | {row['pending']} | {row['files']} | {row['mb']:.1f} |", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
