"""`gan-train`: one training run from a Hydra config, e.g. `gan-train model=wgan_gp dataset=mnist`.

Nothing is written before the config is valid and the run folder may take it (same protocol, or no run yet);
then the run's log is appended to <run_dir>/train.log as well as printed.
"""
from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Iterator

import hydra
from omegaconf import DictConfig

from gan_study.study.cli.help_groups import register_help_resolver
from gan_study.study.config import ConfigError, check_device, validate

log = logging.getLogger("gan_study.train")
register_help_resolver()  # conf/hydra/help/train.yaml names gan-train's groups through it


@hydra.main(config_path="../../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        run_cfg = validate(cfg)
        check_device(run_cfg.device)
    except ConfigError as error:
        print(f"gan-train: invalid config: {error}", file=sys.stderr)
        sys.exit(2)
    # after validation: no compute (nor torch import) before the config is known good
    from gan_study.study.train import run_training
    from gan_study.study.train.run_folder import RunFolder
    from gan_study.study.train.run_identity import check_protocol, default_run_dir

    try:
        run_dir = _run_dir(cfg.get("run_dir")) or default_run_dir(run_cfg.to_dict())
        check_protocol(RunFolder(run_dir), run_cfg.to_dict())
    except ConfigError as error:
        print(f"gan-train: {error}", file=sys.stderr)
        sys.exit(2)
    from gan_study.study.data.errors import DatasetNotFoundError

    try:
        with _log_file(run_dir / "train.log"):
            record = run_training(run_cfg, run_dir)
    except DatasetNotFoundError as error:  # the run's record says failed; re-run once the files are there
        print(f"gan-train: {error}", file=sys.stderr)
        sys.exit(2)
    summary = " ".join(f"{key}={value:.4g}" for key, value in record.best.items())
    print(f"{record.status}: {run_dir} after {record.steps} steps ({record.runtime_s:.1f} s)"
          + (f"; best {summary}" if summary else "") + (f"; {record.reason}" if record.reason else "")
          + "".join(f"; resumed with {key} {old} -> {new}" for key, (old, new) in record.runtime_changes.items()))
    if record.status == "failed":
        sys.exit(1)


def _run_dir(value: object) -> Path | None:
    """`run_dir` as given; None (the default) for the folder named by the protocol config."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):  # run_dir=2024 is a folder name too
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"run_dir = {value!r} is not allowed: a folder path, or null for the default "
                          "runs/<model>_<dataset>_seed<seed>_<protocol hash>")
    return Path(value)


@contextlib.contextmanager
def _log_file(path: Path) -> Iterator[None]:
    """The root logger also appends to `path` (Hydra's format) while the run trains; a multirun's jobs each
    get their own folder's file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    root = logging.getLogger()
    handler.setFormatter(next((h.formatter for h in root.handlers if h.formatter), None))
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


if __name__ == "__main__":
    main()
