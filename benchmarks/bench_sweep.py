"""Sweep overhead per trial (claim, heartbeat, report, storage, driver bookkeeping; no training) and export speed.

1. A whole `gan-sweep` of N trials (launcher=debug: in-process, so no process start is counted) with a trainer
   that returns at once, per storage. Per-trial time is measured between consecutive trainer calls, then
   averaged in bins of the trial index: flat bins = no growth with the study's size. Planning (validating
   every trial's config) and study creation are timed separately.
2. Loading a study of M trials (each with the attributes of a real trial and a 5-row metrics.csv) into the
   tidy DataFrames of `gan_study.study.search.results`, in a fresh process (a journal is replayed from its file), from
   a journal file and (with --load-postgres; copying 10,000 trials into PostgreSQL takes ~15 min) PostgreSQL.

    python benchmarks/bench_sweep.py [--trials 1000] [--load-trials 10000] [--load-postgres] [--postgres URL]

Without --postgres, GAN_STUDY_POSTGRES_URL is used, else tests/infra/start_postgres.sh starts one.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import optuna

ROOT = Path(__file__).resolve().parents[1]
METRIC = "fid_domain_classifier"
sys.path.insert(0, str(ROOT))

from gan_study.launch.config_tree import compose_config  # noqa: E402
from gan_study.launch.debug import DebugExecutor  # noqa: E402
from gan_study.launch.driver import Sweep  # noqa: E402
from gan_study.launch.sweep_plans import build_plans  # noqa: E402
from gan_study.launch.sweep_settings import SweepSettings  # noqa: E402
from gan_study.study.search.storage import open_storage  # noqa: E402
from gan_study.study.search.study import create_or_open, ensure_trials  # noqa: E402
from gan_study.study.search.task import TrialTask  # noqa: E402
from gan_study.study.search.trial_list import search_trials  # noqa: E402
from gan_study.study.search.worker import run_trial  # noqa: E402


def sweep_config(storage_url: str, runs_root: Path, n_trials: int):
    return compose_config("sweep", [
        f"storage.url={storage_url}", f"runs_root={runs_root}", f"study_name=bench-{uuid.uuid4().hex[:8]}",
        "model=wgan_gp", "dataset=mnist", f"n_trials={n_trials}", "progress_every_s=1000000",
        # an objective that needs no download (the trainer below reports a number under its name)
        "eval=none", "+eval.metrics.fid={encoder:domain_classifier}", f"objective.metric={METRIC}"])


class InstantTrainer:
    """Returns a completed record at once and notes when it was called (the gaps are the overhead)."""

    def __init__(self, metrics_rows: int = 0):
        self.calls: list[float] = []
        self.metrics_rows = metrics_rows

    def __call__(self, config: dict, run_dir: str, *, should_stop, on_evaluation) -> dict:
        self.calls.append(time.perf_counter())
        fid = 100.0 * config["model"]["lr"] + config["model"]["beta1"]
        if self.metrics_rows:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            lines = [f"step,epoch,images_seen,wall_time_s,loss_d,loss_g,{METRIC}"]
            lines += [f"{s * 3906},{s * 5},{s * 249984},{s * 60.0},0.5,1.5,{fid + 10 / s}"
                      for s in range(1, self.metrics_rows + 1)]
            (Path(run_dir) / "metrics.csv").write_text("\n".join(lines) + "\n")
        for step in range(1, 4):  # a run of the paper evaluates 4-5 times
            on_evaluation({"step": step * 3906, METRIC: fid + 10 / step})
        return {"status": "completed", "steps": 15625, "runtime_s": 1800.0, "best": {METRIC: fid, "is": 8.0},
                "final": {METRIC: fid, "is": 7.9}}


def overhead(storage_url: str, runs_root: Path, n_trials: int, bins: int = 10) -> dict:
    cfg = sweep_config(storage_url, runs_root, n_trials)
    started = time.perf_counter()
    plans = build_plans(cfg, None)
    planned = time.perf_counter()
    trainer = InstantTrainer()
    sweep = Sweep(plans, DebugExecutor(trainer), SweepSettings.from_config(cfg), n_trials)
    sweep.prepare()
    prepared = time.perf_counter()
    sweep.prepare = lambda: None  # already done, and timed on its own
    sweep.run()
    finished = time.perf_counter()
    gaps = np.diff(np.array([prepared, *trainer.calls, finished])) * 1000
    per_bin = [float(np.mean(chunk)) for chunk in np.array_split(gaps[1:], bins)]
    return {"plan_ms_per_trial": (planned - started) * 1000 / n_trials, "create_s": prepared - planned,
            "run_ms_per_trial": (finished - prepared) * 1000 / n_trials, "bins": per_bin,
            "median_ms": float(np.median(gaps[1:])), "p95_ms": float(np.percentile(gaps[1:], 95))}


def build_study(storage_url: str, runs_root: Path, n_trials: int) -> str:
    """A finished study of n_trials through the worker itself (no driver loop: faster to build)."""
    plan = build_plans(sweep_config(storage_url, runs_root, 1), None)[0]
    plan.trials = search_trials(plan.spec.space, n_trials, plan.spec.sampler.seed, None)
    config = plan.config(plan.trials[0].values, 0)  # one validated config serves every trial (loading is timed)
    study = create_or_open(plan.storage_url, plan.spec)
    ensure_trials(plan.storage_url, study, plan.spec, plan.trials, plan.runs_root)
    trainer = InstantTrainer(metrics_rows=5)
    for trial in study.get_trials(deepcopy=False):
        run_trial(TrialTask(plan.storage_url, plan.name, trial.number, trial.user_attrs["run_dir"], config),
                  train_fn=trainer)
    return plan.name


def timed_load(storage_url: str, name: str) -> tuple[float, float, int, int]:
    """(trials table s, evaluations table s, trials, evaluation rows), measured in a fresh process."""
    code = ("import sys, time; sys.path.insert(0, sys.argv[3])\n"
            "from gan_study.study.search.results import trials_table, evaluations_table\n"
            "t = time.perf_counter(); trials = trials_table(sys.argv[1], sys.argv[2]); t1 = time.perf_counter()\n"
            "evaluations = evaluations_table(trials)\n"
            "print(t1 - t, time.perf_counter() - t1, len(trials), len(evaluations))")
    out = subprocess.run([sys.executable, "-c", code, storage_url, name, str(ROOT)], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2]), int(out[3])


def postgres_url(given: str | None) -> str:
    if given or os.environ.get("GAN_STUDY_POSTGRES_URL"):
        return given or os.environ["GAN_STUDY_POSTGRES_URL"]
    out = subprocess.run(["bash", str(ROOT / "tests/infra/start_postgres.sh")], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--load-trials", type=int, default=10000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--load-postgres", action="store_true", help="also load the big study from PostgreSQL")
    parser.add_argument("--dir", default=None, help="where journal/SQLite files go (default: a temp dir on disk)")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    disk = Path(args.dir or tempfile.mkdtemp(prefix="bench_sweep_", dir=str(ROOT)))
    shm = Path(tempfile.mkdtemp(prefix="bench_sweep_", dir="/dev/shm")) if Path("/dev/shm").is_dir() else None
    pg = postgres_url(args.postgres)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, optuna {optuna.__version__}, load average {os.getloadavg()[0]:.1f}")
    print(f"command: python benchmarks/bench_sweep.py --trials {args.trials} --load-trials {args.load_trials}\n")
    storages = {"journal file (disk)": f"journal:{disk / 'bench.journal'}",
                "PostgreSQL (loopback)": pg}
    if shm is not None:
        storages["journal file (tmpfs)"] = f"journal:{shm / 'bench.journal'}"
    try:
        print(f"1. sweep overhead, {args.trials} trials, launcher=debug, instant trainer (ms per trial)")
        print(f"{'storage':24s} {'plan':>6s} {'create':>8s} {'run':>7s} {'median':>7s} {'p95':>7s}   "
              f"per 10% of the trials (trial index ->)")
        for label, url in storages.items():
            r = overhead(url, disk / "runs", args.trials)
            print(f"{label:24s} {r['plan_ms_per_trial']:6.1f} {r['create_s']:7.2f}s {r['run_ms_per_trial']:7.1f} "
                  f"{r['median_ms']:7.1f} {r['p95_ms']:7.1f}   " + " ".join(f"{b:5.1f}" for b in r["bins"]))
        print("   plan = validating each trial's training config; create = the study and its WAITING trials (s);"
              "\n   run = claim + 3 intermediate values + result attributes + state + driver loop, per trial")
        print(f"\n2. loading a {args.load_trials}-trial study into the tidy tables (fresh process, import excluded)")
        source = storages.get("journal file (tmpfs)", storages["journal file (disk)"])
        name = build_study(source, disk / "runs", args.load_trials)
        copies = {"journal file": source}
        if args.load_postgres:
            optuna.copy_study(from_study_name=name, from_storage=open_storage(source), to_storage=open_storage(pg))
            copies["PostgreSQL"] = pg
        print(f"{'storage':16s} {'trials':>7s} {'trials table':>13s} {'evaluations':>12s} {'(rows)':>8s}")
        for label, url in copies.items():
            load_s, eval_s, n_trials, n_rows = timed_load(url, name)
            print(f"{label:16s} {n_trials:7d} {load_s:12.2f}s {eval_s:11.2f}s {n_rows:8d}")
    finally:
        shutil.rmtree(disk, ignore_errors=True)
        if shm is not None:
            shutil.rmtree(shm, ignore_errors=True)


if __name__ == "__main__":
    main()
