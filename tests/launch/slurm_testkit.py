"""Shared pieces of the launcher=slurm tests: the launcher config as the sweep composes it, real WAITING
trials to submit, and cancelling what a test submitted."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import optuna
from omegaconf import OmegaConf

from gan_study.launch.base import JobRef
from gan_study.launch.slurm import SlurmSettings
from gan_study.study.search.storage import open_storage
from gan_study.study.search.task import TrialTask

SLURM_YAML = Path(__file__).resolve().parents[2] / "conf" / "launcher" / "slurm.yaml"


def slurm_config(**overrides: Any) -> dict[str, Any]:
    """The YAML's values with `overrides` applied (plain containers, as the driver hands them over)."""
    config = OmegaConf.to_container(OmegaConf.load(SLURM_YAML), resolve=True)
    unknown = set(overrides) - set(config)
    assert not unknown, f"not in slurm.yaml: {unknown}"
    return {**config, **overrides}


def slurm_settings(**overrides: Any) -> SlurmSettings:
    return SlurmSettings.from_config(slurm_config(**overrides))


def tasks(n: int, tmp_path: Path, study: str = "held") -> list[TrialTask]:
    """n WAITING trials of a real study (journal file); their run folders under tmp_path/runs/."""
    url = f"journal:{tmp_path / 'studies.journal'}"
    created = optuna.create_study(storage=open_storage(url), study_name=study, load_if_exists=True)
    for _ in range(n):
        created.enqueue_trial({})
    numbers = [t.number for t in created.get_trials(deepcopy=False)][-n:]
    return [TrialTask(url, study, i, str(tmp_path / "runs" / str(i)), {}) for i in numbers]


def cancel(refs: list[JobRef]) -> None:
    """scancel every job (whole arrays) the refs name."""
    subprocess.run(["scancel", *sorted({ref.job_id.split("_")[0] for ref in refs})], check=True)
