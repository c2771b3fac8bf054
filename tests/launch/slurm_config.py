"""The launcher=slurm config as the sweep composes it: conf/launcher/slurm.yaml plus overrides."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from launch.slurm import SlurmSettings

SLURM_YAML = Path(__file__).resolve().parents[2] / "conf" / "launcher" / "slurm.yaml"


def slurm_config(**overrides: Any) -> dict[str, Any]:
    """The YAML's values with `overrides` applied (plain containers, as the driver hands them over)."""
    config = OmegaConf.to_container(OmegaConf.load(SLURM_YAML), resolve=True)
    unknown = set(overrides) - set(config)
    assert not unknown, f"not in slurm.yaml: {unknown}"
    return {**config, **overrides}


def slurm_settings(**overrides: Any) -> SlurmSettings:
    return SlurmSettings.from_config(slurm_config(**overrides))
