"""Trainers for the worker's `train_fn` seam, where a test is about the study and not about training.

They return a record.json dict (Contract 4) whose FID is a closed form of the trial's parameters, write a
real metrics.csv, and log every call so tests can count executions per trial. Light on imports: the
concurrent-worker processes load this module.
"""
from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

METRIC = "fid_domain_classifier"
"""The objective of the test sweeps: FID on the small domain encoder (the Inception weights are not needed
to configure it; nothing here computes it: the trainers report a closed form under its name)."""
EVAL_OVERRIDES = ["eval=none", "+eval.metrics.fid={encoder:domain_classifier}", f"objective.metric={METRIC}"]


def closed_form_fid(config: dict) -> float:
    """The FID the stand-in trainer reports: a function of the trial's parameters only."""
    model = config["model"]
    return round(1000 * model["lr"] + 10 * model["beta1"] + model["n_disc"], 9)


def executions(runs_root: Path) -> list[str]:
    """Every trainer call so far, as 'study/trial' (one line per call, appended atomically)."""
    path = runs_root / "executions.log"
    return path.read_text().split() if path.exists() else []


def _log_execution(run_dir: str) -> None:
    run = Path(run_dir)
    line = f"{run.parent.name}/{run.name}\n".encode()
    fd = os.open(run.parent.parent / "executions.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def scored_trainer(config: dict, run_dir: str, *, should_stop, on_evaluation) -> dict:
    """Completes with FID = closed_form_fid(config) after two evaluations (FID + 1, then FID)."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / "config.json").write_text(json.dumps(config))
    _log_execution(run_dir)
    fid = closed_form_fid(config)
    rows = [{"step": 2, "epoch": 0.5, "images_seen": 32, "wall_time_s": 0.01, "loss_d": 1.0, METRIC: fid + 1},
            {"step": 4, "epoch": 1.0, "images_seen": 64, "wall_time_s": 0.02, "loss_d": 0.5, METRIC: fid}]
    with open(Path(run_dir) / "metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            on_evaluation(row)
    time.sleep(0.02)  # long enough for concurrent workers to overlap
    return {"status": "completed", "reason": None, "steps": 4, "runtime_s": 0.02, "resumed_from_step": None,
            "best": {METRIC: fid}, "final": {METRIC: fid}, "seed": config["seed"], "model": config["model"]["name"],
            "dataset": config["dataset"]["name"]}


def mixed_trainer(config: dict, run_dir: str, *, should_stop, on_evaluation) -> dict:
    """Trial 1 raises, trial 2 diverges, the others complete as `scored_trainer`."""
    trial = Path(run_dir).name
    if trial == "1":
        _log_execution(run_dir)
        raise RuntimeError("boom inside the trainer")
    if trial == "2":
        _log_execution(run_dir)
        return {"status": "diverged", "reason": "loss_d is nan at step 3", "steps": 3, "best": {METRIC: 250.0},
                "final": {METRIC: 250.0}, "runtime_s": 0.01}
    return scored_trainer(config, run_dir, should_stop=should_stop, on_evaluation=on_evaluation)


def once_interrupted_trainer(config: dict, run_dir: str, *, should_stop, on_evaluation) -> dict:
    """The first call of trial 0 stops early as a preempted run does; every other call completes."""
    marker = Path(run_dir) / "interrupted-once"
    if Path(run_dir).name == "0" and not marker.exists():
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        marker.touch()
        _log_execution(run_dir)
        return {"status": "interrupted", "reason": "stopped at step 2 (preemption)", "steps": 2}
    return scored_trainer(config, run_dir, should_stop=should_stop, on_evaluation=on_evaluation)
