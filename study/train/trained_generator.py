"""A finished (or running) run's generator, loaded from its run folder for analysis: the generator of its best
evaluation of a metric when kept (generators/, record.json's best_step), else its latest (checkpoint.pt or last
kept generator); with the run's prior and, for class-conditional runs, its number of classes.
`generator_from_run` loads one as a `GeneratorSource` for the FID encoder-sensitivity experiment
(study/metrics/fid_sanity.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from gan_study.models.checks import choice
from gan_study.study.metrics.fid_sanity import GeneratorSource


class TrainedGenerator:
    """A run folder's generator in eval mode on the CPU, with its prior and its number of classes (None: unconditional)."""

    def __init__(self, path: Path, metric: str):
        from gan_study.study.config import validate
        from gan_study.study.train.loss import build_loss
        from gan_study.study.train.run import make_prior

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
        self._standing_statistics_due = cfg.eval.bn_stats == "recompute"

    def _recompute_statistics(self) -> None:
        """Batch-norm statistics as the run's own evaluations saw them (study/train/standing_stats.py), on the first
        generator pass: they cost `eval.bn_stats_batches` passes, which a caller that only asks `num_classes` or
        `latents` (the report choosing its generators) should not pay."""
        from gan_study.study.train.standing_stats import prior_forward, recompute_batchnorm

        cfg = self.config
        recompute_batchnorm(self.network, prior_forward(self.network, self.sample_z, cfg.train.batch_size,
                                                        self.num_classes, cfg.eval.seed, torch.device("cpu")),
                            cfg.eval.bn_stats_batches)
        self._standing_statistics_due = False

    def latents(self, n: int, seed: int) -> torch.Tensor:
        """n latents from the run's prior, drawn with `seed`."""
        return self.sample_z(n, torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def __call__(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self._standing_statistics_due:
            self._recompute_statistics()
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


def best_generator(run_dir: Path, metric: str = "fid") -> Path:
    """The kept generator of a finished run's best `metric` evaluation (record.json's best_step)."""
    from gan_study.study.train.checkpoint import generator_path
    from gan_study.study.train.record import RunRecord

    record = run_dir / "record.json"
    if not record.exists():
        raise FileNotFoundError(f"{run_dir}: no record.json, so no best generator (an unfinished run has only its "
                                "checkpoint: use --checkpoint last)")
    best_step = RunRecord.read(record).best_step
    if metric not in best_step:
        raise ValueError(f"{run_dir}: --metric {metric!r} was not evaluated; its record has a best step of "
                         f"{sorted(best_step)}")
    path = generator_path(run_dir / "generators", int(best_step[metric]))
    if not path.exists():
        raise FileNotFoundError(f"{run_dir}: the generator of its best {metric} evaluation ({path}) is not there")
    return path


def generator_from_run(run_dir: Path | str, device: torch.device, eval_seed: int | None = None,
                       checkpoint: str = "last", metric: str = "fid") -> GeneratorSource:
    """The run folder's generator, with the run's own evaluation latents (eval.seed): `last`, its latest (its
    checkpoint, or its last kept generator once finished), or `best`, the one of its best `metric` evaluation."""
    from gan_study.models.losses import get_loss
    from gan_study.study.train.checkpoint import last_generator
    from gan_study.study.train.run import make_prior

    run_dir = Path(run_dir)
    source = (best_generator(run_dir, metric) if choice("checkpoint", checkpoint, ("best", "last")) == "best"
              else last_generator(run_dir))
    state = torch.load(source, map_location=device, weights_only=False)
    cfg = state["config"]
    model, data, train = cfg["model"], cfg["dataset"], cfg["train"]
    loss = get_loss(model["name"])(**model["loss_params"])
    nets = loss.build_networks(tuple(data["image_shape"]), train["z_dim"], model["discriminator_batchnorm"],
                               model["generator_activation"])
    generator = nets.generator.to(device)
    generator.load_state_dict(state["generator"])
    generator.eval()
    seed = cfg["eval"]["seed"] if eval_seed is None else eval_seed
    prior = make_prior(loss.prior, train["z_dim"], torch.device("cpu"))
    return GeneratorSource(f"{run_dir.name} (step {state['step']})", generator,
                           lambda n: prior(n, torch.Generator().manual_seed(seed)))
