"""A budget in device-hours: what each trial cost, on which kind of machine, and how many trials an hour buys.

A WGAN-GP trial costs several NS GAN trials, so a budget counted in trials flatters the dearer loss. Each
run records its wall time (`runtime_s`) and its hardware (record.json, `gan_study.study.hardware`); an hour
on one kind of machine is not an hour on another, so costs are per kind and never pooled across kinds. A
diverged trial costs the time it ran before diverging: a user pays for it too.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from gan_study.analysis.budget import exact_curve
from gan_study.analysis.provenance import run_folder
from gan_study.analysis.scores import ScoreSpec, budget_trials
from gan_study.study.hardware import HARDWARE_KEYS

UNRECORDED = "unrecorded hardware"
"""The machine of a run whose record names no hardware (made before gan-study recorded it, or not found)."""


def machine_name(hardware: dict) -> str:
    """One kind of machine in words, what sets its speed: `AMD EPYC (family 23 model 1), AVX2, 2 threads, cpu`.

    CPUs sold under one name differ in speed across families and models, so those are part of the kind when the
    record has them (records from before they were recorded name the CPU only).
    """
    cpu = str(hardware.get("cpu"))
    if hardware.get("cpu_family") is not None:
        cpu += f" (family {hardware.get('cpu_family')} model {hardware.get('cpu_model')})"
    return f"{cpu}, {hardware.get('cpu_capability')}, {hardware.get('threads')} threads, {hardware.get('accelerator')}"


def trial_machines(trials: pd.DataFrame, runs_root: Path | None = None) -> pd.Series:
    """Each trial's kind of machine, from its run's record.json (a `machine` column wins when the table has one)."""
    if "machine" in trials.columns:
        return trials["machine"].fillna(UNRECORDED).astype(str)
    names = []
    for run_dir in trials["run_dir"]:
        folder = run_folder(run_dir, runs_root)
        record = folder / "record.json" if folder is not None else None
        hardware = json.loads(record.read_text()).get("hardware") if record is not None and record.is_file() else None
        names.append(machine_name({key: hardware.get(key) for key in HARDWARE_KEYS}) if hardware else UNRECORDED)
    return pd.Series(names, index=trials.index, dtype=str)


def trial_hours(trials: pd.DataFrame) -> pd.Series:
    """Each trial's wall time in hours (NaN where the export has none)."""
    return pd.to_numeric(trials["runtime_s"], errors="coerce") / 3600.0


def trials_within(hours: np.ndarray, cost_hours: float) -> np.ndarray:
    """How many trials of mean cost `cost_hours` fit in each budget of `hours` (at least one: the first is paid)."""
    return np.maximum(1, np.floor(np.asarray(hours, dtype=np.float64) / cost_hours + 1e-9)).astype(np.int64)


def default_hours(costs: pd.Series, totals: pd.Series, points: int) -> np.ndarray:
    """From the dearest loss's one trial to the hours every loss actually spent, log-spaced."""
    low, high = float(costs.max()), float(totals.min())
    if not np.isfinite(low) or low <= 0:
        return np.array([])
    return np.array([low]) if high <= low else np.geomspace(low, high, points)


def priced_trials(trials: pd.DataFrame, spec: ScoreSpec, search: str | None, runs_root: Path | None) -> pd.DataFrame:
    """The search's scored trials with their `machine` and `hours`; trials without a recorded wall time are dropped."""
    chosen = budget_trials(trials, spec, search)
    chosen = chosen.assign(machine=trial_machines(chosen, runs_root).to_numpy(), hours=trial_hours(chosen))
    return chosen[chosen["hours"].notna() & (chosen["hours"] > 0)]


def hours_curves(trials: pd.DataFrame, spec: ScoreSpec, search: str | None, runs_root: Path | None = None,
                 replace: bool = True, points: int = 30) -> pd.DataFrame:
    """Exact expected best score (± 1 sd) against device-hours, per data set, kind of machine and loss."""
    rows = []
    for (dataset, machine), group in priced_trials(trials, spec, search, runs_root).groupby(["dataset", "machine"],
                                                                                         sort=False):
        by_model = dict(tuple(group.groupby("model", sort=False)))
        costs = pd.Series({m: g["hours"].mean() for m, g in by_model.items()})
        hours = default_hours(costs, pd.Series({m: g["hours"].sum() for m, g in by_model.items()}), points)
        for model, rows_of in by_model.items():
            k = trials_within(hours, costs[model])
            if not replace:
                k = np.minimum(k, len(rows_of))
            curve = exact_curve(rows_of["score"].to_numpy(), k, replace, spec.minimize)
            rows.append(pd.DataFrame({"dataset": dataset, "search": search, "machine": machine, "model": model,
                                      "hours": hours, "k": k, "mean": curve.mean, "sd": curve.sd,
                                      "lower": np.clip(curve.lower, *spec.bounds),
                                      "upper": np.clip(curve.upper, *spec.bounds), "cost_hours": costs[model],
                                      "n_trials": len(rows_of)}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
