"""Shared pieces of the study tests: storages, sweep configs, and trainers for the worker's `train_fn` seam.

The trainers stand in for `study.train.run_training` where the test is about the study and not about
training: they return a record.json dict (Contract 4) whose FID is a closed form of the trial's
parameters, write a real metrics.csv, and log every call so tests can count executions per trial.
"""
from __future__ import annotations

import csv
import os
import time
import uuid
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

CONF = Path(__file__).resolve().parents[2] / "conf"
STORAGES = ["journal", "sqlite", "postgres"]


def make_storage_url(kind: str, tmp_path: Path, request) -> str:
    if kind == "journal":
        return f"journal:{tmp_path / 'studies' / 'gan.journal'}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'studies' / 'gan.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=STORAGES)
def storage_url(request, tmp_path) -> str:
    return make_storage_url(request.param, tmp_path, request)


def compose_sweep(overrides: list[str]):
    """The gan-sweep config as the app composes it (`tests/conftest.compose` is shadowed by sub-folder conftests)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="sweep", overrides=overrides)


def sweep_config(storage_url: str, runs_root: Path, *overrides: str, name: str | None = None):
    """A composed gan-sweep config for tests: a study name unique to the test (PostgreSQL is shared)."""
    name = name or f"test-{uuid.uuid4().hex[:8]}-${{model.name}}"
    return compose_sweep([f"storage.url={storage_url}", f"runs_root={runs_root}", f"study_name={name}", "model=wgan_gp",
                    "n_trials=5", "poll_s=0.05", "progress_every_s=0", "heartbeat.interval_s=0.2",
                    "heartbeat.grace_s=5", *overrides])


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
    _log_execution(run_dir)
    fid = closed_form_fid(config)
    rows = [{"step": 2, "epoch": 0.5, "images_seen": 32, "wall_time_s": 0.01, "loss_d": 1.0, "fid": fid + 1},
            {"step": 4, "epoch": 1.0, "images_seen": 64, "wall_time_s": 0.02, "loss_d": 0.5, "fid": fid}]
    with open(Path(run_dir) / "metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            on_evaluation(row)
    time.sleep(0.02)  # long enough for concurrent workers to overlap
    return {"status": "completed", "reason": None, "steps": 4, "runtime_s": 0.02, "resumed_from_step": None,
            "best": {"fid": fid}, "final": {"fid": fid}, "seed": config["seed"], "model": config["model"]["name"],
            "dataset": config["dataset"]["name"]}


def mixed_trainer(config: dict, run_dir: str, *, should_stop, on_evaluation) -> dict:
    """Trial 1 raises, trial 2 diverges, the others complete as `scored_trainer`."""
    trial = Path(run_dir).name
    if trial == "1":
        _log_execution(run_dir)
        raise RuntimeError("boom inside the trainer")
    if trial == "2":
        _log_execution(run_dir)
        return {"status": "diverged", "reason": "loss_d is nan at step 3", "steps": 3, "best": {"fid": 250.0},
                "final": {"fid": 250.0}, "runtime_s": 0.01}
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
