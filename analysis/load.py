"""Studies in: the tidy tables of architecture Contract 6, read from export files or an Optuna storage.

One row per trial (`trials`) and one row per evaluation (`evaluations`). Every trial is kept, whatever
its status: failed, running and waiting trials were not measured and are listed by the report;
diverged trials were measured and lose every budget comparison (`gan_study.analysis.scores`).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("gan_study.report")

TRIAL_COLUMNS = ("study", "trial", "model", "dataset", "search", "seed", "state", "status", "reason",
                 "objective", "objective_name", "direction", "is_default", "default_outside_space",
                 "steps", "runtime_s", "run_dir")
EVALUATION_COLUMNS = ("study", "trial", "model", "dataset", "step", "epoch", "images_seen", "wall_time_s")
EVALUATION_KEYS = EVALUATION_COLUMNS[:5]
"""What an evaluation row needs; the rest of Contract 6's columns are informative (an export of runs
whose folders are not readable here has no evaluations and only these columns)."""
STATUSES = ("completed", "diverged", "pruned", "failed", "running", "waiting")
MEASURED_STATUSES = ("completed", "diverged")
"""Statuses that enter the budget statistics; the others were never measured."""
SEED_SEARCH = "seeds"
"""The `search` name of a seed study (one configuration, many seeds); also recognised from the data."""
TABLE_SUFFIXES = (".parquet", ".csv")


@dataclass
class StudyTables:
    """The tidy tables of one or more studies, plus where they came from."""

    trials: pd.DataFrame
    evaluations: pd.DataFrame
    sources: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> list[str]:
        """Metric value names with a per-trial column (`best_<name>` or `final_<name>`)."""
        names = [c.split("_", 1)[1] for c in self.trials.columns if c.startswith(("best_", "final_"))]
        return list(dict.fromkeys(names))

    @property
    def params(self) -> list[str]:
        """Hyperparameter names (the `param_<name>` columns, without the prefix)."""
        return [c.removeprefix("param_") for c in self.trials.columns if c.startswith("param_")]

    @property
    def studies(self) -> list[str]:
        return list(dict.fromkeys(self.trials["study"]))


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def _table_files(source: Path) -> list[Path]:
    """The tables of a file or folder; where a folder holds one table as both Parquet and CSV, the Parquet."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix in TABLE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"export folder {source} holds no {' or '.join(TABLE_SUFFIXES)} table")
        parquet = {p.with_suffix("") for p in files if p.suffix == ".parquet"}
        return [p for p in files if p.suffix == ".parquet" or p.with_suffix("") not in parquet]
    if not source.exists():
        raise FileNotFoundError(f"export {source} does not exist (expected a .parquet/.csv table or a folder of them)")
    if source.suffix not in TABLE_SUFFIXES:
        raise ValueError(f"export {source}: unsupported file type {source.suffix!r}; allowed: {TABLE_SUFFIXES}")
    return [source]


def read_export(paths: str | Path | Iterable[str | Path]) -> StudyTables:
    """Read exported tables (files or folders of .parquet/.csv); each table's kind is told by its columns."""
    sources = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    trial_parts, evaluation_parts, files = [], [], []
    for file in (f for s in sources for f in _table_files(s)):
        table = _read_table(file)
        if "status" in table.columns:
            trial_parts.append(tidy_trials(table, str(file)))
        elif "step" in table.columns:
            evaluation_parts.append(tidy_evaluations(table, str(file)))
        else:
            raise ValueError(f"{file}: neither a trial table (no 'status' column) nor an evaluation table "
                             f"(no 'step' column); columns: {list(table.columns)}")
        files.append(str(file))
    if not trial_parts:
        raise ValueError(f"no trial table (a table with a 'status' column) among {files}")
    return _combine(trial_parts, evaluation_parts, files)


def read_storage(storage_url: str, study_names: str | Sequence[str]) -> StudyTables:
    """Export the named studies from an Optuna storage (through `gan_study.study.search.results`) and tidy them."""
    from gan_study.study.search.credentials import masked
    from gan_study.study.search.results import export_trials  # the study's own exporter; only needed for storages

    names = [study_names] if isinstance(study_names, str) else list(study_names)
    if not names:
        raise ValueError("study: name at least one study to read from the storage")
    trial_parts, evaluation_parts = [], []
    for name in names:
        trials, evaluations = export_trials(storage_url, name)
        source = f"{masked(storage_url)}#{name}"  # shown in the report: never a password
        trial_parts.append(tidy_trials(trials, source))
        evaluation_parts.append(tidy_evaluations(evaluations, source))
    return _combine(trial_parts, evaluation_parts, [f"{masked(storage_url)}#{n}" for n in names])


def load(export: str | Path | Iterable[str | Path] | None = None, storage: str | None = None,
         study: str | Sequence[str] | None = None) -> StudyTables:
    """Read exported tables (`export`) and/or studies from a storage (`storage` + `study`).

    When `study` is given with an export, only those studies are kept.
    """
    if export is None and storage is None:
        raise ValueError("load: give export (exported table files) or storage (an Optuna storage URL) + study")
    parts = []
    if export is not None:
        parts.append(read_export(export))
    if storage is not None:
        if study is None:
            raise ValueError(f"load: storage = {storage!r} needs study (one name or a list)")
        parts.append(read_storage(storage, study))
    tables = parts[0] if len(parts) == 1 else _combine([p.trials for p in parts], [p.evaluations for p in parts],
                                                       [s for p in parts for s in p.sources])
    if study is not None and export is not None:
        tables = select_studies(tables, [study] if isinstance(study, str) else list(study))
    return tables


def select_studies(tables: StudyTables, names: Sequence[str]) -> StudyTables:
    missing = sorted(set(names) - set(tables.trials["study"]))
    if missing:
        raise ValueError(f"study = {missing}: not in the tables; available: {tables.studies}")
    keep = tables.trials["study"].isin(names)
    return StudyTables(tables.trials[keep].reset_index(drop=True),
                       tables.evaluations[tables.evaluations["study"].isin(names)].reset_index(drop=True),
                       tables.sources)


def _missing_columns(table: pd.DataFrame, required: Sequence[str], source: str, kind: str) -> None:
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"{source}: the {kind} table lacks the Contract 6 column(s) {missing}; "
                         f"it has {list(table.columns)}")


def _as_bool(column: pd.Series, name: str, source: str) -> pd.Series:
    truth = {True: True, False: False, "True": True, "False": False, "true": True, "false": False,
             1: True, 0: False, 1.0: True, 0.0: False}
    values = column.map(lambda v: False if v is None or (isinstance(v, float) and np.isnan(v)) else truth.get(v, v))
    bad = sorted({repr(v) for v in values if not isinstance(v, (bool, np.bool_))})
    if bad:
        raise ValueError(f"{source}: column {name!r} holds {bad}; allowed: true/false")
    return values.astype(bool)


def tidy_trials(table: pd.DataFrame, source: str = "<table>") -> pd.DataFrame:
    """Validate one trial table against Contract 6 and add the analysis columns `measured` and `seed_study`."""
    _missing_columns(table, TRIAL_COLUMNS, source, "trial")
    trials = table.copy()
    bad = sorted(set(trials["status"].astype(str)) - set(STATUSES))
    if bad:
        raise ValueError(f"{source}: status {bad} unknown; allowed: {STATUSES}")
    _refuse_duplicates(trials, source)
    for name in ("is_default", "default_outside_space"):
        trials[name] = _as_bool(trials[name], name, source)
    for name in ("study", "model", "dataset", "search", "status"):
        trials[name] = trials[name].astype(str)
    numeric = ["trial", "seed", "objective", "steps", "runtime_s"] + [
        c for c in trials.columns if c.startswith(("best_", "final_"))]
    for name in numeric:
        trials[name] = pd.to_numeric(trials[name], errors="coerce")
    for name in trials["objective_name"].dropna().astype(str).unique():  # no trial finished yet: no column
        metric = name.removeprefix("best_").removeprefix("final_")
        for column in (f"best_{metric}", f"final_{metric}"):
            if column not in trials.columns:
                trials[column] = np.nan
    trials["measured"] = trials["status"].isin(MEASURED_STATUSES)
    trials["seed_study"] = _seed_studies(trials)
    return trials


def _refuse_duplicates(trials: pd.DataFrame, source: str) -> None:
    duplicated = trials.duplicated(["study", "trial"])
    if duplicated.any():
        study, trial = trials.loc[duplicated, ["study", "trial"]].iloc[0]
        raise ValueError(f"{source}: study {study!r} trial {trial} appears more than once")


def _seed_studies(trials: pd.DataFrame) -> pd.Series:
    """A group (study, model, dataset) is a seed study if named so, or if its trials share every
    hyperparameter and differ in seed: the paper's phase 3 (best configuration × 50 seeds)."""
    params = [c for c in trials.columns if c.startswith("param_")]

    def is_seed_group(group: pd.DataFrame) -> bool:
        if (group["search"] == SEED_SEARCH).all():
            return True
        constant = all(group[c].nunique(dropna=False) == 1 for c in params)
        return len(group) >= 2 and constant and group["seed"].nunique() == len(group)

    flags = trials.groupby(["study", "model", "dataset"], sort=False)[trials.columns.tolist()].apply(is_seed_group)
    keys = pd.MultiIndex.from_frame(trials[["study", "model", "dataset"]])
    return pd.Series(flags.reindex(keys).to_numpy(dtype=bool), index=trials.index)


def tidy_evaluations(table: pd.DataFrame, source: str = "<table>") -> pd.DataFrame:
    """Validate one evaluation (learning-curve) table against Contract 6."""
    _missing_columns(table, EVALUATION_KEYS, source, "evaluation")
    evaluations = table.copy()
    for name in ("study", "model", "dataset"):
        evaluations[name] = evaluations[name].astype(str)
    return evaluations


def _combine(trial_parts: list[pd.DataFrame], evaluation_parts: list[pd.DataFrame],
             sources: list[str]) -> StudyTables:
    trials = pd.concat(trial_parts, ignore_index=True)
    _refuse_duplicates(trials, ", ".join(sources))
    evaluations = (pd.concat(evaluation_parts, ignore_index=True) if evaluation_parts
                   else pd.DataFrame(columns=list(EVALUATION_COLUMNS)))
    log.info("loaded %d trials (%s) and %d evaluations from %d source(s)", len(trials),
             ", ".join(f"{n} {s}" for s, n in trials["status"].value_counts().items()), len(evaluations),
             len(sources))
    return StudyTables(trials, evaluations, sources)
