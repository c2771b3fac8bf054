"""One training run of the paper's protocol: the loop, its evaluation points, checkpoints and exact resume.

The loop follows docs/protocol.md#training-loop: one D update per real minibatch; G updated at step 0 and whenever
(step − 1) mod n_disc == 0 (0-based D steps, as the paper's code); a fresh z each step; evaluation and
a checkpoint every `eval_every` steps and at the last step. A NaN/Inf stops the run as *diverged*: an
outcome of training, recorded with its reason, never a crash and never a sentinel number.
"""
from __future__ import annotations

import contextlib
import logging
import math
import shutil
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

from gan_study.models.conditional import BalancedClassGenerator
from gan_study.models.losses import ConditionalLoss, GANLoss, Networks, Optimizers
from gan_study.study.config import TrainRunConfig, check_device
from gan_study.study.data import ImageSet, load_dataset
from gan_study.study.hardware import describe_hardware, hardware_changes
from gan_study.study.metrics import EvalContext, Metric
from gan_study.study.metrics.registry import build_run_metrics
from gan_study.study.train.batches import BatchStream
from gan_study.study.train.checkpoint import (keep_generators, previous_checkpoint, restore_rng_state, resume_state,
                                             rng_state, save_checkpoint, save_generator)
from gan_study.study.train.divergence import DivergenceWatch
from gan_study.study.train.loss import build_loss
from gan_study.study.train.precision import set_tf32, step_precision
from gan_study.study.train.progress import ProgressLog
from gan_study.study.train.record import RunRecord
from gan_study.study.train.run_folder import RunFolder
from gan_study.study.train.run_identity import check_protocol
from gan_study.study.train.standing_stats import prior_forward, standing_statistics
from gan_study.study.train.tensorboard_log import TensorBoardLog, run_hyperparameters, tensorboard_enabled

log = logging.getLogger("gan_study.train")


class Diverged(Exception):
    """Training produced a non-finite value; the message is the recorded reason."""


def run_training(cfg: TrainRunConfig, run_dir: Path | str, *, resume: bool = True,
                 on_evaluation: Callable[[dict[str, Any]], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> RunRecord:
    """Train (or resume, or just report) the run in `run_dir`; see docs/architecture.md, Contract 4."""
    folder = RunFolder(run_dir)
    record = finished_record(cfg, folder, resume)
    if record is not None:
        return record
    run = TrainingRun(cfg, folder)
    try:
        return run.train(resume, on_evaluation, should_stop)
    except Exception:
        run.finish("failed", traceback.format_exc()).write(folder.record)
        raise


def finished_record(cfg: TrainRunConfig, folder: RunFolder, resume: bool) -> RunRecord | None:
    """The record of a run in `folder` that has already finished (nothing to do), else None.

    With `resume`, a folder made under another protocol is refused first: never a stale result, never a traceback."""
    if not resume:
        return None
    check_protocol(folder, cfg.to_dict())
    if folder.record.exists():
        record = RunRecord.read(folder.record)
        if record.finished:
            log.info("%s already %s; nothing to do", folder.root, record.status)
            return record
    return None


def resolve_device(name: str) -> torch.device:
    check_device(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def make_prior(kind: str, z_dim: int, device: torch.device) -> Callable[..., torch.Tensor]:
    """The latent prior: U[-1, 1]^d for the GANs, N(0, I) for the VAE (docs/protocol.md#architecture)."""

    def sample(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        gen_device = generator.device if generator is not None else device
        if kind == "uniform":
            z = torch.rand(n, z_dim, generator=generator, device=gen_device) * 2 - 1
        else:
            z = torch.randn(n, z_dim, generator=generator, device=gen_device)
        return z.to(device)

    return sample


def make_optimizer(params, cfg: TrainRunConfig, device: torch.device) -> torch.optim.Optimizer:
    """`train.optimizer` with the same lr for G and D: Adam (the paper), or RMSProp with TF1's defaults (decay 0.9,
    no momentum, ε = 1e-10) for the paper's Adam-vs-RMSProp experiment. TF1 adds ε under the square root and starts
    its mean square at 1, PyTorch adds ε outside and starts at 0: the first steps differ (docs/configuration.md)."""
    if cfg.train.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.model.lr, alpha=0.9, eps=1e-10, momentum=0.0)
    return make_adam(params, cfg, device)


def make_adam(params, cfg: TrainRunConfig, device: torch.device) -> torch.optim.Adam:
    """Adam with the same lr/β for G and D (docs/protocol.md#training-loop); fused (one kernel, same algorithm) where supported."""
    kwargs = dict(lr=cfg.model.lr, betas=(cfg.model.beta1, cfg.model.beta2), eps=1e-8)
    if cfg.train.fused_adam != "off":
        try:
            return torch.optim.Adam(params, fused=True, **kwargs)
        except (RuntimeError, TypeError):
            if cfg.train.fused_adam == "on":
                raise
    return torch.optim.Adam(params, **kwargs)


def load_train_set(cfg: TrainRunConfig, device: torch.device) -> ImageSet:
    """The run's training split (its first `train.train_size` images, if set), resident on `device` as one tensor."""
    data = cfg.dataset
    images = load_dataset(data.name, cfg.data_root, data.train_split, download=data.download)
    if cfg.train.train_size is not None:
        images = images.head(min(cfg.train.train_size, len(images)))
    return images.to(device)


class TrainingRun:
    """The state of one run between steps: networks, optimisers, data stream, running statistics."""

    def __init__(self, cfg: TrainRunConfig, folder: RunFolder, train_set: ImageSet | None = None):
        """`train_set`: the run's training split when already on the device (a batched group shares one)."""
        self.cfg, self.folder = cfg, folder
        self.name = f"{cfg.model.name}/{cfg.dataset.name}/seed{cfg.seed}"
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        self.device = resolve_device(cfg.device)
        self.hardware = describe_hardware(self.device)
        set_tf32(cfg.train.tf32)
        torch.manual_seed(cfg.seed)
        self.loss: GANLoss = build_loss(cfg).to(self.device)
        self.num_classes = self.loss.num_classes if isinstance(self.loss, ConditionalLoss) else None
        nets = self.loss.build_networks(tuple(cfg.dataset.image_shape), cfg.train.z_dim,
                                        cfg.model.discriminator_batchnorm, cfg.model.generator_activation)
        self.nets = Networks(nets.generator.to(self.device), nets.discriminator.to(self.device))
        self.optimizers = Optimizers(make_optimizer(self.nets.generator.parameters(), cfg, self.device),
                                     make_optimizer(self.nets.discriminator.parameters(), cfg, self.device))
        self.sample_z = make_prior(self.loss.prior, cfg.train.z_dim, self.device)
        self.train_set = load_train_set(cfg, self.device) if train_set is None else train_set
        self.stream = BatchStream(len(self.train_set), cfg.train.batch_size, seed=cfg.seed, device=self.device)
        self.watch = DivergenceWatch()
        self.metrics: dict[str, Metric] = build_run_metrics(cfg.eval.metrics, cfg.eval.batch_size)
        self.step = 0
        self.resumed_from: int | None = None
        self.runtime_changes: dict[str, list[Any]] = {}
        self.steps_this_process = 0
        self.elapsed_before = 0.0
        self.loss_sums: dict[str, torch.Tensor] = {}
        self.loss_counts: dict[str, int] = {}
        self.best: dict[str, float] = {}
        self.best_step: dict[str, int] = {}
        self.final: dict[str, float] = {}
        self.cards: dict[str, Any] = {}
        self._eval_latents: dict[int, torch.Tensor] = {}
        self._context: EvalContext | None = None
        self.tensorboard: TensorBoardLog | None = None
        self.window: dict[str, list[torch.Tensor]] = {}
        self.eval_steps = set(cfg.eval_steps)
        self.images_per_s: float | None = None
        self.t0 = time.perf_counter()

    # -- the loop ---------------------------------------------------------------------------------

    def train(self, resume: bool, on_evaluation, should_stop) -> RunRecord:
        self.begin(resume)
        cfg = self.cfg
        progress = self.progress_log()
        try:
            while self.step < cfg.total_steps:
                if should_stop is not None and should_stop():
                    return self.interrupt()
                d_step = self.step  # 0-based index of the D step about to run
                update_generator = d_step == 0 or (d_step - 1) % cfg.model.n_disc == 0
                indices = self.stream.next()
                real = self.train_set.batch(indices)
                z = self.sample_z(cfg.train.batch_size)
                with step_precision(cfg.train.precision, self.device):
                    logs = self.loss.train_step(self.nets, self.optimizers, real, z, update_generator,
                                                lambda: self.sample_z(cfg.train.batch_size), **self._labels(indices))
                self.after_step(logs, progress, on_evaluation)
        except Diverged as divergence:
            return self.diverged(divergence)
        return self.complete(progress)

    # -- what happens around a step (shared with batched groups, study/train/batched_run.py) ------------

    def begin(self, resume: bool) -> dict[str, Any] | None:
        """Resume from the newest readable checkpoint, else start the folder afresh; then open TensorBoard.

        Returns the checkpoint resumed from (None: a fresh start)."""
        state = None
        if resume and (self.folder.checkpoint.exists() or previous_checkpoint(self.folder.checkpoint).exists()):
            state = resume_state(self.folder.checkpoint, self.device)
        if state is not None:
            self._restore(state)
        else:
            self._start_fresh()
        self.tensorboard = (TensorBoardLog(self.folder.tensorboard, self.step)
                            if tensorboard_enabled(self.cfg.train.tensorboard) else None)
        self.t0 = time.perf_counter()
        return state

    def progress_log(self) -> ProgressLog:
        cfg = self.cfg
        return ProgressLog(cfg.total_steps, self.step, cfg.train.batch_size, cfg.train.log_every_steps, self.name)

    def after_step(self, logs: dict[str, torch.Tensor], progress: ProgressLog, on_evaluation) -> None:
        """Count the step just run, and at their cadences: check divergence, log losses, evaluate and checkpoint.

        Raises `Diverged` (with the step rewound to the divergence) at a non-finite value."""
        self.step += 1
        self.steps_this_process += 1
        self.watch.observe(self.step, logs)
        self._accumulate(logs)
        for key, value in logs.items():
            self.window.setdefault(key, []).append(value)
        if progress.due(self.step) or self.step in self.eval_steps or self.step == self.cfg.total_steps:
            self._raise_if_diverged()
        if progress.due(self.step):
            self._log_losses(progress, {k: torch.stack(v).mean().item() for k, v in self.window.items()})
            self.window.clear()
        if self.step in self.eval_steps:
            row = self._evaluate()
            save_generator(self.folder.generators, self.step, self.nets.generator.state_dict(),
                           self.cfg.to_dict())  # before the checkpoint that refers to it
            self._save()
            if on_evaluation is not None:
                on_evaluation(row)

    def interrupt(self) -> RunRecord:
        """A stop request between steps: checkpoint (unless the steps since the last check diverged) and record it."""
        try:
            self._raise_if_diverged()
        except Diverged as divergence:
            return self.diverged(divergence)
        self._save()
        return self._finish_and_write("interrupted", f"stopped at step {self.step} (preemption)")

    def diverged(self, divergence: Diverged) -> RunRecord:
        log.warning("%s diverged: %s", self.name, divergence)
        return self._finish_and_write("diverged", str(divergence))

    def complete(self, progress: ProgressLog) -> RunRecord:
        self.images_per_s = progress.rate(self.step)
        return self._finish_and_write("completed", None)

    def _labels(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """A conditional step's labels: the real batch's, and uniform ones for the fakes.

        The fake labels come from torch's global generator, as z does, so the checkpoint's RNG state carries
        them and a resumed run draws the same ones.
        """
        if self.num_classes is None:
            return {}
        fake_labels = torch.randint(self.num_classes, (self.cfg.train.batch_size,), device=self.device)
        return {"real_labels": self.train_set.labels[indices], "fake_labels": fake_labels}

    def _raise_if_diverged(self) -> None:
        """Read back the steps since the last check (one sync); at a non-finite value, rewind the count to it.

        The steps run past it are dropped from the record, and nothing of them was saved (checks run before
        every evaluation and checkpoint), so the outcome equals a check after every step.
        """
        divergence = self.watch.first_divergence()
        if divergence is not None:
            step, reason = divergence
            self.steps_this_process -= self.step - step
            self.step = step
            raise Diverged(reason)

    def _accumulate(self, logs: dict[str, torch.Tensor]) -> None:
        for key, value in logs.items():
            self.loss_sums[key] = self.loss_sums.get(key, 0) + value.detach().float()
            self.loss_counts[key] = self.loss_counts.get(key, 0) + 1

    # -- evaluation -------------------------------------------------------------------------------

    def eval_latents(self, n: int) -> torch.Tensor:
        """The same n latents at every evaluation (seeded by eval.seed, never by the training stream)."""
        if n not in self._eval_latents:
            generator = torch.Generator().manual_seed(self.cfg.eval.seed)
            self._eval_latents[n] = make_prior(self.loss.prior, self.cfg.train.z_dim, torch.device("cpu"))(n, generator)
        return self._eval_latents[n]

    def context(self) -> EvalContext:
        if self._context is None:
            data = self.cfg.dataset
            reference = load_dataset(data.name, self.cfg.data_root, data.reference_split, download=data.download)
            conditional = self.num_classes is not None
            generator = (BalancedClassGenerator(self.nets.generator, self.num_classes) if conditional
                         else self.nets.generator)
            self._context = EvalContext(
                generator=generator, sample_z=self.sample_z, eval_latents=self.eval_latents,
                dataset_name=data.name, reference=reference, device=self.device,
                cache_dir=Path(self.cfg.cache_dir), eval_seed=self.cfg.eval.seed, data_root=Path(self.cfg.data_root),
                num_classes=self.num_classes, conditional_generator=self.nets.generator if conditional else None,
                run_dir=self.folder.root)
        return self._context

    @torch.no_grad()
    def _sample_grid(self) -> None:
        """`sample_grid` images of the fixed latents; conditional: class k in row k, one latent per column."""
        n = self.cfg.train.sample_grid
        if n == 0:
            return
        if self.num_classes is None:
            images, per_row = self.nets.generator(self.eval_latents(n).to(self.device)), None
        else:
            per_row = max(1, n // self.num_classes)
            latents = self.eval_latents(per_row).repeat(self.num_classes, 1).to(self.device)
            labels = torch.arange(self.num_classes, device=self.device).repeat_interleave(per_row)
            images = self.nets.generator(latents, labels)
        images = images.float().cpu()
        if not bool(torch.isfinite(images).all()):
            raise Diverged(f"generator output is not finite at step {self.step}")
        grid = self.folder.save_samples(images, self.step, per_row)
        if self.tensorboard is not None:
            self.tensorboard.samples(self.step, grid)

    def _evaluate(self) -> dict[str, Any]:
        generator = self.nets.generator
        generator.eval()  # BN moving averages, as the paper's evaluation graph
        try:
            with self._batchnorm_statistics():
                self._sample_grid()
                values: dict[str, float] = {}
                for name, metric in self.metrics.items():
                    started = time.perf_counter()
                    values.update(metric.evaluate(self.context()))
                    self.cards[name] = metric.card()
                    log.info("%s step %d: %s (%.1f s)", self.name, self.step,
                             " ".join(f"{k}={v:.4g}" for k, v in values.items()), time.perf_counter() - started)
        finally:
            generator.train()
        for key, value in values.items():
            if not math.isfinite(value):
                raise Diverged(f"{key} is {value} at step {self.step}")
        self._update_summary(values)
        batch = self.cfg.train.batch_size
        row: dict[str, Any] = {
            "step": self.step,
            "epoch": self.step * batch / self.cfg.dataset.epoch_size,
            "images_seen": self.step * batch,
            "wall_time_s": self.elapsed(),
            **{key: (self.loss_sums[key] / self.loss_counts[key]).item() for key in self.loss_sums},
            **values,
        }
        self.loss_sums.clear()
        self.loss_counts.clear()
        self.folder.append_metrics(row)
        if self.tensorboard is not None:
            self.tensorboard.evaluation(self.step, values)
        return row

    def _batchnorm_statistics(self) -> contextlib.AbstractContextManager:
        """G's batch-norm statistics for this evaluation: the running averages (the paper), or with
        `eval.bn_stats=recompute` standing statistics, put back afterwards so the training state is untouched."""
        options = self.cfg.eval
        if options.bn_stats == "running":
            return contextlib.nullcontext()
        forward = prior_forward(self.nets.generator, self.sample_z, self.cfg.train.batch_size, self.num_classes,
                                options.seed, self.device)
        return standing_statistics(self.nets.generator, forward, options.bn_stats_batches)

    def _log_losses(self, progress: ProgressLog, losses: dict[str, float]) -> None:
        """The logging cadence: a progress line, a row of losses.csv, TensorBoard's training curves."""
        images_per_s = progress.rate(self.step)
        progress.report(self.step, losses)
        self.folder.append_losses({"step": self.step, "wall_time_s": self.elapsed(), "images_per_s": images_per_s,
                                   **losses})
        if self.tensorboard is not None:
            self.tensorboard.losses(self.step, losses, images_per_s)

    def _update_summary(self, values: dict[str, float]) -> None:
        directions = {key: direction for metric in self.metrics.values() for key, direction in metric.objectives.items()}
        for key, value in values.items():
            self.final[key] = value
            minimize = directions.get(key, "minimize") == "minimize"
            if key not in self.best or (value < self.best[key] if minimize else value > self.best[key]):
                self.best[key], self.best_step[key] = value, self.step

    # -- checkpoints ------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self.t0

    def _start_fresh(self) -> None:
        for path in (self.folder.metrics, self.folder.losses, self.folder.checkpoint,
                     previous_checkpoint(self.folder.checkpoint), self.folder.record):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.folder.tensorboard, ignore_errors=True)
        keep_generators(self.folder.generators, ())
        self.folder.create(self.cfg.to_dict())

    def training_state(self) -> dict[str, Any]:
        """What the next step depends on, in the checkpoint's format (a batched group gives its trial's slice)."""
        return {
            "step": self.step,
            "generator": self.nets.generator.state_dict(),
            "discriminator": self.nets.discriminator.state_dict(),
            "loss": self.loss.state_dict(),
            "optimizer_g": self.optimizers.generator.state_dict(),
            "optimizer_d": self.optimizers.discriminator.state_dict(),
            "stream": self.stream.state_dict(),
            "rng": rng_state(),
        }

    def _save(self) -> None:
        save_checkpoint(self.folder.checkpoint, {
            **self.training_state(),
            "loss_sums": self.loss_sums, "loss_counts": self.loss_counts,
            "summary": {"best": self.best, "best_step": self.best_step, "final": self.final, "cards": self.cards},
            "elapsed_s": self.elapsed(),
            "config": self.cfg.to_dict(),
            "hardware": self.hardware,
        })

    def _restore(self, state: dict[str, Any]) -> None:
        self.runtime_changes = {**check_protocol(self.folder, self.cfg.to_dict()),
                                **hardware_changes(state.get("hardware"), self.hardware)}
        self.nets.generator.load_state_dict(state["generator"])
        self.nets.discriminator.load_state_dict(state["discriminator"])
        self.loss.load_state_dict(state["loss"])
        self.optimizers.generator.load_state_dict(state["optimizer_g"])
        self.optimizers.discriminator.load_state_dict(state["optimizer_d"])
        self.stream.load_state_dict(state["stream"])
        restore_rng_state(state["rng"])
        self.loss_sums, self.loss_counts = state["loss_sums"], state["loss_counts"]
        summary = state["summary"]
        self.best, self.best_step, self.final, self.cards = (summary["best"], summary["best_step"],
                                                             summary["final"], summary["cards"])
        self.step = self.resumed_from = state["step"]
        self.elapsed_before = state["elapsed_s"]
        self.folder.truncate_metrics(self.step)
        self.folder.truncate_losses(self.step)
        log.info("%s resumed from step %d", self.name, self.step)

    def finish(self, status: str, reason: str | None) -> RunRecord:
        cfg = self.cfg
        return RunRecord(
            status=status, reason=reason, model=cfg.model.name, dataset=cfg.dataset.name, seed=cfg.seed,
            steps=self.step, total_steps=cfg.total_steps, resumed_from_step=self.resumed_from,
            steps_run_this_process=self.steps_this_process, best=dict(self.best), final=dict(self.final),
            best_step=dict(self.best_step), runtime_s=self.elapsed(),
            images_per_s=self.images_per_s, metric_cards=dict(self.cards),
            runtime_changes=dict(self.runtime_changes), hardware=dict(self.hardware))

    def _finish_and_write(self, status: str, reason: str | None) -> RunRecord:
        record = self.finish(status, reason)
        record.write(self.folder.record)
        if self.tensorboard is not None:
            if record.finished:
                self.tensorboard.outcome(self.step, run_hyperparameters(self.cfg.to_dict()), record.best,
                                         record.final, status)
            self.tensorboard.close()
        if record.finished:  # only once the record says so: a crash before it leaves a resumable run
            self._keep_what_analysis_needs()
        log.info("%s %s after %d steps (%.1f s)%s", self.name, status, self.step, record.runtime_s,
                 f": {reason}" if reason else "")
        return record

    def _keep_what_analysis_needs(self) -> None:
        """A finished run keeps the generators of its best evaluations and of its last one (re-evaluation,
        memorisation checks, GAN-train/GAN-test); the full checkpoints only with `train.keep_checkpoint`."""
        rows = self.folder.read_metrics()
        last = [int(rows[-1]["step"])] if rows else []
        kept = keep_generators(self.folder.generators, [*last, *self.best_step.values()])
        if not self.cfg.train.keep_checkpoint:
            for path in (self.folder.checkpoint, previous_checkpoint(self.folder.checkpoint)):
                path.unlink(missing_ok=True)
        log.info("%s keeps %s", self.name, ", ".join(str(p.relative_to(self.folder.root)) for p in kept) or "no generator")
