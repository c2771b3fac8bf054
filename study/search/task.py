"""The unit of work an executor runs: one trial of one study, described so any process can pick it up."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrialTask:
    """Picklable and self-contained: a SLURM array task needs nothing but this to run its trial."""

    storage_url: str
    study_name: str
    trial_number: int
    run_dir: str
    config: dict = field(hash=False)
    """The fully resolved training config of this trial (plain containers, no OmegaConf)."""
