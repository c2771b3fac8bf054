"""What a finished (or stopped) run reports: the row a study stores for its trial."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gan_study.study.files import write_text_atomically

STATUSES = ("completed", "diverged", "failed", "interrupted")


@dataclass
class RunRecord:
    """`status` is how the run ended; `diverged` is an outcome of training, not a crash."""

    status: str
    model: str
    dataset: str
    seed: int
    steps: int
    total_steps: int
    reason: str | None = None
    resumed_from_step: int | None = None
    steps_run_this_process: int = 0
    best: dict[str, float] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    best_step: dict[str, int] = field(default_factory=dict)
    runtime_s: float = 0.0
    images_per_s: float | None = None
    metric_cards: dict[str, Any] = field(default_factory=dict)
    runtime_changes: dict[str, list[Any]] = field(default_factory=dict)
    """Runtime settings this run resumed under that differ from its config.yaml: {key: [old, new]}."""
    hardware: dict[str, Any] = field(default_factory=dict)
    """Where the run's last process ran (`study/hardware.py`): scores are reproducible on the same hardware only."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"RunRecord.status = {self.status!r}; allowed: {STATUSES}")

    @property
    def finished(self) -> bool:
        """True when re-running could not change the outcome (completed or diverged)."""
        return self.status in ("completed", "diverged")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> None:
        """Atomically: a reader never sees half a record."""
        write_text_atomically(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")

    @classmethod
    def read(cls, path: Path) -> RunRecord:
        return cls(**json.loads(path.read_text()))
