"""`gan-sweep`: create or re-open the studies, work out which trials still need running, run them, record them.

    gan-sweep model=wgan_gp dataset=mnist search=wide n_trials=100
    gan-sweep models=[ns_gan,wgan_gp] dataset=mnist search=narrow n_trials=50 launcher.max_parallel=4
    gan-sweep experiment=seeds models=all dataset=mnist n_seeds=50
    gan-sweep ... --dry-run
    gan-sweep status study='mnist-wide-*'          # queued / running / done / failed / lost per model
    gan-sweep logs study=mnist-wide-wgan_gp trial=17

Re-running the same command resumes: COMPLETE trials are never re-run, trials of dead workers are found
(dead process, stale heartbeat, lost job) and resumed from their checkpoints. With launcher=slurm the driver
exits once every trial is queued (`follow=true` keeps it). docs/sweeps.md has the details.

This module is the command line; its pieces: `sweep_settings` (the driver's settings), `sweep_plans` (the studies,
one plan per model), `dry_run` (the `--dry-run` listing), `driver` (the loop) and `signals` (Ctrl-C / SIGTERM).
"""
from __future__ import annotations

import logging
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Callable

from omegaconf import DictConfig, OmegaConf

from gan_study.launch.base import Executor
from gan_study.launch.commands import COMMANDS, run_command
from gan_study.launch.config_tree import composer
from gan_study.launch.driver import Sweep, SweepStopped
from gan_study.launch.dry_run import print_dry_run
from gan_study.launch.signals import SweepAborted
from gan_study.launch.sweep_plans import build_plans
from gan_study.launch.sweep_settings import SweepSettings
from gan_study.study.config import ConfigError
from gan_study.study.data.errors import DatasetNotFoundError
from gan_study.study.data.registry import check_dataset_files
from gan_study.study.search.credentials import scrub_files
from gan_study.study.search.plan import StudyPlan

log = logging.getLogger("gan_study.sweep")


def run_sweep(cfg: DictConfig, *, compose_model: Callable[[str], DictConfig] | None = None,
              executor: Executor | None = None, when_valid: Callable[[], None] = lambda: None
              ) -> dict[str, Counter] | None:
    """The whole command: plans (validated), then the dry-run listing or, after `when_valid`, the sweep itself."""
    settings = SweepSettings.from_config(cfg)
    plans = build_plans(cfg, compose_model, check_files=not settings.dry_run)
    if settings.dry_run:
        print_dry_run(plans)
        return None
    if executor is None:
        from gan_study.launch.registry import build_executor

        executor = build_executor(OmegaConf.to_container(cfg.launcher, resolve=True), Path(cfg.runs_root).absolute())
    when_valid()
    warn_missing_data(plans)
    return Sweep(plans, executor, settings, int(cfg.n_trials)).run()


def warn_missing_data(plans: list[StudyPlan]) -> None:
    """Before any trial is queued: once per data set whose files this machine lacks, the one line that each of
    its trials would otherwise FAIL with (a SLURM node may still have them: the sweep goes on)."""
    studies: dict[tuple[str, str], list[str]] = {}
    for plan in plans:
        studies.setdefault((plan.base["dataset"]["name"], str(plan.base["data_root"])), []).append(plan.name)
    for (dataset, data_root), names in studies.items():
        try:
            check_dataset_files(dataset, data_root)
        except DatasetNotFoundError as missing:
            log.warning("%s; every trial of %s will fail where it is missing", missing.one_line, ", ".join(names))


def keep_driver_output(cfg: DictConfig) -> None:
    """Make `driver_dir` now that the config is valid (a rejected command leaves nothing behind): the config as
    Hydra would have saved it in `.hydra/` (a password in storage.url masked) and the driver's log, `sweep.log`."""
    from hydra.core.hydra_config import HydraConfig

    folder = Path(cfg.driver_dir)
    saved = folder / ".hydra"
    saved.mkdir(parents=True, exist_ok=True)
    hydra = HydraConfig.get()
    OmegaConf.save(cfg, saved / "config.yaml")
    OmegaConf.save(OmegaConf.create({"hydra": hydra}), saved / "hydra.yaml")
    OmegaConf.save(OmegaConf.create(list(hydra.overrides.task)), saved / "overrides.yaml")
    scrub_files(sorted(saved.glob("*.yaml")), str(cfg.storage.url))
    log_file = logging.FileHandler(folder / "sweep.log")
    log_file.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"))
    logging.getLogger().addHandler(log_file)


def _app(cfg: DictConfig) -> None:
    try:
        run_sweep(cfg, compose_model=composer(), when_valid=lambda: keep_driver_output(cfg))
    except ConfigError as error:
        print(f"gan-sweep: invalid config: {error}", file=sys.stderr)
        sys.exit(2)
    except SweepStopped as stopped:
        print(f"gan-sweep: {stopped}", file=sys.stderr)
        sys.exit(128 + stopped.signum)
    except SweepAborted as aborted:
        print(f"gan-sweep: {aborted}", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
    except KeyboardInterrupt:  # before the driver's loop (validation, opening the studies) or after it
        print("gan-sweep: interrupted by SIGINT outside the trial loop; re-run the same command to go on",
              file=sys.stderr)
        sys.exit(128 + signal.SIGINT)


def main() -> None:
    """Console script: `status` and `logs` sub-commands (gan_study.launch.commands); `--dry-run` means dry_run=true."""
    import hydra

    if sys.argv[1:2] and sys.argv[1] in COMMANDS:
        sys.exit(run_command(sys.argv[1], sys.argv[2:]))
    sys.argv = [("dry_run=true" if arg == "--dry-run" else arg) for arg in sys.argv]
    hydra.main(config_path="../conf", config_name="sweep", version_base="1.3")(_app)()


if __name__ == "__main__":
    main()
