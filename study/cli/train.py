"""`gan-train`: one training run from a Hydra config, e.g. `gan-train model=wgan_gp dataset=mnist`."""
from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from gan_study.study.cli.help_groups import register_help_resolver
from gan_study.study.config import ConfigError, validate

log = logging.getLogger("gan_study.train")
register_help_resolver()  # conf/hydra/help/train.yaml names gan-train's groups through it


@hydra.main(config_path="../../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        run_cfg = validate(cfg)
    except ConfigError as error:
        print(f"gan-train: invalid config: {error}", file=sys.stderr)
        sys.exit(2)
    from gan_study.study.train import run_training  # after validation: no compute before the config is known good

    record = run_training(run_cfg, cfg.run_dir)
    summary = " ".join(f"{key}={value:.4g}" for key, value in record.best.items())
    print(f"{record.status}: {cfg.run_dir} after {record.steps} steps ({record.runtime_s:.1f} s)"
          + (f"; best {summary}" if summary else "") + (f"; {record.reason}" if record.reason else ""))
    if record.status == "failed":
        sys.exit(1)


if __name__ == "__main__":
    main()
