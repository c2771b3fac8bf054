"""A finished (or running) run's generator, loaded from its run folder for analysis: the generator of its best
evaluation of a metric when kept (generators/, record.json's best_step), else its latest (checkpoint.pt or last
kept generator); with the run's prior and, for class-conditional runs, its number of classes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

class TrainedGenerator:
    """A run folder's generator in eval mode on the CPU, with its prior and its number of classes (None: unconditional)."""

    def __init__(self, path: Path, metric: str):
        from gan_study.study.config import validate
        from gan_study.study.train.loss import build_loss
        from gan_study.study.train.run import make_prior
        from gan_study.study.train.standing_stats import prior_forward, recompute_batchnorm

        self.file = path
        state = torch.load(path, map_location="cpu", weights_only=False)
        cfg = validate(OmegaConf.create(state["config"]), check_files=False)
        loss = build_loss(cfg)
        nets = loss.build_networks(tuple(cfg.dataset.image_shape), cfg.train.z_dim,
                                   cfg.model.discriminator_batchnorm, cfg.model.generator_activation)
        self.network = nets.generator.eval()
        self.network.load_state_dict(state["generator"])
        self.step, self.metric, self.config = int(state["step"]), metric, cfg
        self.num_classes: int | None = getattr(loss, "num_classes", None)
        self.sample_z = make_prior(loss.prior, cfg.train.z_dim, torch.device("cpu"))
        if cfg.eval.bn_stats == "recompute":  # as the run's own evaluations saw it (study/train/standing_stats.py)
            recompute_batchnorm(self.network, prior_forward(self.network, self.sample_z, cfg.train.batch_size,
                                                            self.num_classes, cfg.eval.seed,
                                                            torch.device("cpu")), cfg.eval.bn_stats_batches)

    def latents(self, n: int, seed: int) -> torch.Tensor:
        """n latents from the run's prior, drawn with `seed`."""
        return self.sample_z(n, torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def __call__(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes is None:
            return self.network(z)
        return self.network(z, torch.zeros(len(z), dtype=torch.long) if labels is None else labels)


def generator_file(run_dir: Any, metric: str) -> Path | None:
    """The generator of the run's best `metric` evaluation if kept, else its latest; None when there is none here."""
    from gan_study.study.train.checkpoint import generator_path, last_generator
    from gan_study.study.train.record import RunRecord

    if not isinstance(run_dir, str) or not run_dir or not Path(run_dir).is_dir():
        return None
    folder = Path(run_dir)
    record = folder / "record.json"
    if record.exists():
        step = RunRecord.read(record).best_step.get(metric)
        if step is not None and generator_path(folder / "generators", int(step)).exists():
            return generator_path(folder / "generators", int(step))
    latest = last_generator(folder)
    return latest if latest.exists() else None
