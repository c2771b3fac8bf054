"""One training run: `run_training(cfg, run_dir)` → `RunRecord` (docs/architecture.md, Contract 4)."""
from gan_study.study.train.record import RunRecord
from gan_study.study.train.run import run_training

__all__ = ["RunRecord", "run_training"]
