"""Where a report's numbers came from: sources, trial counts, run configs, metric cards, software, hardware."""
from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gan_study.analysis.load import StudyTables
from gan_study.study.hardware import HARDWARE_KEYS
from gan_study.study.package_versions import package_versions

PACKAGES = ("gan-study", "numpy", "pandas", "scipy", "matplotlib", "optuna", "pyarrow", "hydra-core")
MAX_CONFIGS = 40
"""Run configs shown in the page: the default trial of each (study, model, data set), at most this many."""


@dataclass
class Provenance:
    sources: list[dict]
    counts: pd.DataFrame
    """Trials per study and status."""
    unmeasured: pd.DataFrame
    """Trials not in the statistics (failed, running, waiting) and diverged ones, with their reason."""
    configs: dict[str, str] = field(default_factory=dict)
    """`study/model/dataset (trial n)` -> config.yaml text of a representative run."""
    metric_cards: dict[str, dict] = field(default_factory=dict)
    """Distinct metric cards found in the runs' record.json, by metric name (and a counter if they differ)."""
    runs_found: int = 0
    runs_missing: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    hardware: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*HARDWARE_KEYS, "trials"]))
    """The distinct machines the runs recorded (record.json's `hardware`), with how many trials ran on each."""


CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^/:@\s]+):[^@/\s]+@")


def mask_credentials(text: str) -> str:
    """`postgresql://user:secret@host` -> `postgresql://user:***@host`: a report is shared, passwords are not."""
    return CREDENTIALS.sub(lambda m: f"{m.group('scheme')}:***@", text)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def describe_sources(sources: list[str]) -> list[dict]:
    described = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            described.append({"source": source, "bytes": path.stat().st_size, "sha256": _file_digest(path)})
        else:
            described.append({"source": mask_credentials(source)})
    return described


def versions() -> dict[str, str]:
    return {"python": sys.version.split()[0], "platform": platform.platform(), **package_versions(PACKAGES)}


def status_counts(trials: pd.DataFrame) -> pd.DataFrame:
    counts = trials.groupby(["study", "status"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=[c for c in ("completed", "diverged", "pruned", "failed", "running", "waiting")
                                     if c in counts.columns])
    return counts.assign(total=counts.sum(axis=1)).rename_axis(columns=None).reset_index()


def run_folder(run_dir: object, runs_root: Path | None) -> Path | None:
    if not isinstance(run_dir, str) or not run_dir:
        return None
    path = Path(run_dir)
    if not path.is_absolute() and runs_root is not None:
        path = runs_root / path
    return path if path.is_dir() else None


NOT_RECORDED = "not recorded"
"""A hardware key the run's record lacks: it was made before gan-study recorded that key."""


def hardware_table(run_dirs: pd.Series, runs_root: Path | None) -> pd.DataFrame:
    """One row per distinct hardware in the runs' records, with its trial count; runs made before records named
    their hardware are not counted."""
    rows = []
    for run_dir in run_dirs:
        folder = run_folder(run_dir, runs_root)
        record = folder / "record.json" if folder is not None else None
        if record is not None and record.is_file() and (hardware := json.loads(record.read_text()).get("hardware")):
            rows.append({key: hardware.get(key, NOT_RECORDED) for key in HARDWARE_KEYS})
    if not rows:
        return pd.DataFrame(columns=[*HARDWARE_KEYS, "trials"])
    return (pd.DataFrame(rows).astype(str).groupby(list(HARDWARE_KEYS)).size().rename("trials")
            .sort_values(ascending=False).reset_index())


def collect(tables: StudyTables, runs_root: Path | None = None) -> Provenance:
    trials = tables.trials
    unmeasured = trials.loc[trials["status"] != "completed",
                            ["study", "trial", "model", "dataset", "search", "status", "reason"]]
    provenance = Provenance(describe_sources(tables.sources), status_counts(trials), unmeasured.reset_index(drop=True),
                            versions=versions(), hardware=hardware_table(trials["run_dir"], runs_root))
    representatives = trials.sort_values(["is_default", "trial"], ascending=[False, True])
    representatives = representatives.drop_duplicates(["study", "model", "dataset"]).head(MAX_CONFIGS)
    for trial in representatives.itertuples(index=False):
        folder = run_folder(trial.run_dir, runs_root)
        if folder is None:
            provenance.runs_missing += 1
            continue
        provenance.runs_found += 1
        config = folder / "config.yaml"
        if config.is_file():
            provenance.configs[f"{trial.study}/{trial.model}/{trial.dataset} (trial {trial.trial})"] = config.read_text()
        record = folder / "record.json"
        if record.is_file():
            cards = json.loads(record.read_text()).get("metric_cards") or {}
            for name, card in cards.items():
                known = [k for k, v in provenance.metric_cards.items() if k.split(" ")[0] == name]
                if not any(provenance.metric_cards[k] == card for k in known):
                    provenance.metric_cards[name if not known else f"{name} ({len(known) + 1})"] = card
    return provenance
