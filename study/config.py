"""Validation of a composed config, once, at the edge, before any compute is spent.

Hydra composes the config; `validate` turns it into plain frozen dataclasses and rejects bad input
with a `ConfigError` that names the field, the value and what is allowed. Nothing past this point
reads OmegaConf.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from gan_study.models.checks import ConfigError, at_least, check, choice, flag, integer, number  # ConfigError: public here too

OPTIMIZERS = ("adam", "rmsprop")


@dataclass(frozen=True)
class ModelConfig:
    name: str
    lr: float
    beta1: float
    beta2: float
    n_disc: int
    discriminator_batchnorm: bool
    generator_activation: str
    module: str | None
    loss_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetConfig:
    name: str
    image_shape: tuple[int, int, int]
    epoch_size: int
    epochs: int
    eval_every_epochs: int
    train_split: str
    reference_split: str
    download: bool


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int
    z_dim: int
    steps: int | None
    eval_every_steps: int | None
    log_every_steps: int
    sample_grid: int
    threads: int | None
    fused_adam: str
    train_size: int | None
    precision: str = "fp32"
    keep_checkpoint: bool = False
    """A finished run keeps its full checkpoint.pt too (default: only the generators of its best and last evaluations)."""
    tf32: bool = False
    """TensorFloat-32 for float32 products and convolutions on NVIDIA GPUs (default off: the paper's float32)."""
    tensorboard: str = "auto"
    """TensorBoard event files in the run folder: auto (when the package is installed), on, off."""
    optimizer: str = "adam"
    """adam (the paper) | rmsprop (TF's defaults; the paper's extra experiment, docs/protocol.md#experiments)."""


@dataclass(frozen=True)
class EvalConfig:
    seed: int
    batch_size: int
    metrics: dict[str, dict[str, Any]]
    bn_stats: str = "running"
    """G's batch-norm statistics at evaluation: running (the averages as trained, the paper) | recompute
    (re-estimated from `bn_stats_batches` fresh batches of train.batch_size prior draws; study/train/standing_stats.py)."""
    bn_stats_batches: int = 100


@dataclass(frozen=True)
class ConditionalConfig:
    """Class-conditional G and D (docs/architecture.md, "Conditioning"); off, the default, is the paper's protocol."""

    enabled: bool = False
    head: str = "acgan"
    aux_weight: float = 1.0
    classify_fakes: bool = False


@dataclass(frozen=True)
class TrainRunConfig:
    """Everything one training run needs, validated. `to_dict()` is what `config.yaml` records."""

    model: ModelConfig
    dataset: DatasetConfig
    train: TrainConfig
    eval: EvalConfig
    seed: int
    device: str
    data_root: str
    cache_dir: str
    conditional: ConditionalConfig = field(default_factory=ConditionalConfig)

    @property
    def total_steps(self) -> int:
        """D steps of the whole run: epochs × epoch size // batch, as the paper's code (15,625 on MNIST)."""
        if self.train.steps is not None:
            return self.train.steps
        return self.dataset.epochs * self.dataset.epoch_size // self.train.batch_size

    @property
    def eval_steps(self) -> list[int]:
        """Steps after which the run is evaluated and checkpointed: every interval, and the last step."""
        every = self.train.eval_every_steps
        if every is None:
            every = self.dataset.eval_every_epochs * self.dataset.epoch_size // self.train.batch_size
        total = self.total_steps
        return sorted({*range(every, total, every), total})

    def to_dict(self) -> dict[str, Any]:
        """Plain data; an unconditional run is recorded exactly as before conditioning existed, so the
        checkpoints and studies written then still resume (a missing `conditional` section validates as off)."""
        data = asdict(self)
        if not self.conditional.enabled:
            del data["conditional"]
        if self.eval.bn_stats == "running":  # the paper's evaluation, recorded as before the option existed
            del data["eval"]["bn_stats"], data["eval"]["bn_stats_batches"]
        return data


SEED_MAX = 2**63 - 1
"""The largest seed: torch's generators take 64-bit seeds, and a study stores them as JSON integers."""


def _model(section: dict) -> ModelConfig:
    from gan_study.models.layers import ACTIVATIONS
    from gan_study.models.losses import LossPluginError, available_losses, get_loss

    module = section.get("module")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ConfigError(f"model.module = {module!r} cannot be imported: {error}") from error
    name = section.get("name")
    try:  # a plugin's loss (entry point group gan_study.losses) is imported here, before any compute
        choice("model.name", name, available_losses())
        loss_class = get_loss(name)
    except LossPluginError as error:
        raise ConfigError(f"model.name = {name!r}: {error}") from error
    activation = choice("model.generator_activation", section.get("generator_activation"), ACTIVATIONS)
    loss_params = dict(section.get("loss_params") or {})
    try:
        loss_class(**loss_params)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"model.loss_params of {name!r}: {error}") from error
    return ModelConfig(
        name=name,
        lr=number("model.lr", section.get("lr"), lambda v: v > 0, "a positive, finite learning rate"),
        beta1=number("model.beta1", section.get("beta1"), lambda v: 0 <= v < 1, "a number in [0, 1) (Adam's momentum)"),
        beta2=number("model.beta2", section.get("beta2"), lambda v: 0 <= v < 1, "a number in [0, 1)"),
        n_disc=integer("model.n_disc", section.get("n_disc"), 1),
        discriminator_batchnorm=flag("model.discriminator_batchnorm", section.get("discriminator_batchnorm")),
        generator_activation=activation,
        module=module or None,
        loss_params=loss_params,
    )


def _dataset(section: dict) -> DatasetConfig:
    from gan_study.study.data import available_datasets, dataset_info

    name = section.get("name")
    choice("dataset.name", name, available_datasets())
    info = dataset_info(name)
    shape = tuple(section.get("image_shape") or ())
    check(shape == tuple(info.image_shape), "dataset.image_shape", list(shape),
           f"the shape of the {name} files, {list(info.image_shape)}")
    for split_key in ("train_split", "reference_split"):
        choice(f"dataset.{split_key}", section.get(split_key), info.splits)
    return DatasetConfig(
        name=name,
        image_shape=shape,
        epoch_size=integer("dataset.epoch_size", section.get("epoch_size"), 1),
        epochs=integer("dataset.epochs", section.get("epochs"), 1),
        eval_every_epochs=integer("dataset.eval_every_epochs", section.get("eval_every_epochs"), 1),
        train_split=section["train_split"],
        reference_split=section["reference_split"],
        download=flag("dataset.download", section.get("download")),
    )


def _train(section: dict) -> TrainConfig:
    from gan_study.study.train.precision import PRECISIONS

    fused = section.get("fused_adam", "auto")
    fused = {True: "on", False: "off"}.get(fused, fused)
    check(fused in ("auto", "on", "off"), "train.fused_adam", fused, "auto, true or false")
    optimizer = section.get("optimizer", "adam")
    check(optimizer in OPTIMIZERS, "train.optimizer", optimizer, f"one of {list(OPTIMIZERS)} (adam: the paper)")
    precision = section.get("precision", "fp32")
    check(precision in PRECISIONS, "train.precision", precision,
           f"one of {list(PRECISIONS)} (fp32: the paper; bf16: bfloat16 autocast, faster where supported)")
    return TrainConfig(
        batch_size=integer("train.batch_size", section.get("batch_size"), 1),
        z_dim=integer("train.z_dim", section.get("z_dim"), 1),
        steps=integer("train.steps", section.get("steps"), 1, optional=True),
        eval_every_steps=integer("train.eval_every_steps", section.get("eval_every_steps"), 1, optional=True),
        log_every_steps=integer("train.log_every_steps", section.get("log_every_steps"), 1),
        sample_grid=integer("train.sample_grid", section.get("sample_grid"), 0),
        threads=integer("train.threads", section.get("threads"), 1, optional=True),
        fused_adam=fused,
        train_size=integer("train.train_size", section.get("train_size"), 1, optional=True),
        precision=precision,
        keep_checkpoint=flag("train.keep_checkpoint", section.get("keep_checkpoint", False)),
        tf32=flag("train.tf32", section.get("tf32", False)),
        tensorboard=_tensorboard(section.get("tensorboard", "auto")),
        optimizer=optimizer,
    )


def _tensorboard(setting: Any) -> str:
    from gan_study.study.train.tensorboard_log import TENSORBOARD_SETTINGS, tensorboard_available

    setting = {True: "on", False: "off"}.get(setting, setting)
    check(setting in TENSORBOARD_SETTINGS, "train.tensorboard", setting,
           "auto (on when the tensorboard package is installed), true or false")
    check(setting != "on" or tensorboard_available(), "train.tensorboard", True,
           "false, or install the package first: pip install 'gan-study[tensorboard]'")
    return setting


def _conditional(section: Any, dataset: DatasetConfig) -> ConditionalConfig:
    from gan_study.models.conditional import HEADS
    from gan_study.study.data import available_datasets, dataset_info

    if section is None:
        return ConditionalConfig()
    check(isinstance(section, dict), "conditional", section,
           "a mapping with enabled, head, aux_weight, classify_fakes")
    enabled = flag("conditional.enabled", section.get("enabled"))
    head = section.get("head")
    choice("conditional.head", head, HEADS)
    if enabled:
        labelled = [name for name in available_datasets() if dataset_info(name).num_classes is not None]
        check(dataset_info(dataset.name).num_classes is not None, "conditional.enabled", enabled,
               f"data set {dataset.name!r} has no class labels; conditioning needs one of {labelled}")
    return ConditionalConfig(
        enabled=enabled,
        head=head,
        aux_weight=at_least("conditional.aux_weight", section.get("aux_weight"), 0),
        classify_fakes=flag("conditional.classify_fakes", section.get("classify_fakes")),
    )


def _eval(section: dict, check_files: bool) -> EvalConfig:
    from gan_study.study.metrics import available_metrics, build_metric
    from gan_study.study.train.standing_stats import BN_STATS

    metrics = dict(section.get("metrics") or {})
    for name, options in metrics.items():
        check(name in available_metrics(), "eval.metrics", name, f"metric names among {available_metrics()}")
        try:
            metric = build_metric(name, **dict(options or {}))
            if check_files:
                metric.preflight()
        except (TypeError, ValueError, FileNotFoundError) as error:
            raise ConfigError(f"eval.metrics.{name}: {error}") from error
    bn_stats = section.get("bn_stats", "running")
    check(bn_stats in BN_STATS, "eval.bn_stats", bn_stats,
           f"one of {list(BN_STATS)} (running: the paper; recompute: re-estimate G's batch-norm statistics)")
    return EvalConfig(
        seed=integer("eval.seed", section.get("seed"), 0, maximum=SEED_MAX),
        batch_size=integer("eval.batch_size", section.get("batch_size"), 1),
        metrics={name: dict(options or {}) for name, options in metrics.items()},
        bn_stats=bn_stats,
        bn_stats_batches=integer("eval.bn_stats_batches", section.get("bn_stats_batches", 100), 1),
    )


def validate(cfg: DictConfig | dict, *, check_files: bool = True) -> TrainRunConfig:
    """The run config of a composed Hydra config, or a `ConfigError` naming what is wrong.

    `check_files=False` (a dry run) skips the checks of files a real run needs, such as metric weights."""
    raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    for section in ("model", "dataset", "train", "eval"):
        check(isinstance(raw.get(section), dict), section, raw.get(section), "a config group (mapping)")
    device = raw.get("device", "auto")
    check(isinstance(device, str) and re.fullmatch(r"auto|cpu|cuda(:\d+)?", device) is not None,
           "device", device, "auto, cpu, cuda or cuda:N")
    dataset = _dataset(raw["dataset"])
    run = TrainRunConfig(
        model=_model(raw["model"]),
        dataset=dataset,
        train=_train(raw["train"]),
        eval=_eval(raw["eval"], check_files),
        seed=integer("config.seed", raw.get("seed"), 0, maximum=SEED_MAX),
        device=device,
        data_root=str(raw.get("data_root", "data")),
        cache_dir=str(raw.get("cache_dir", ".gan-study/cache")),
        conditional=_conditional(raw.get("conditional"), dataset),
    )
    check(run.eval_steps[0] >= 1, "train.eval_every_steps", run.train.eval_every_steps, "at least 1 step")
    _check_conditional_metrics(run)
    _check_architecture(run)
    return run


def check_device(device: str) -> None:
    """A CUDA device must exist where training starts. Not part of `validate`: a sweep's driver may run on a
    login node without a GPU while its trials train on GPU nodes."""
    if not device.startswith("cuda"):
        return
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    check(index < count, "device", device, f"this machine has {count} CUDA device(s) that torch can use; "
           "device=auto takes a GPU when there is one, else the CPU")


def _check_conditional_metrics(run: TrainRunConfig) -> None:
    """Metrics that generate images of requested classes (GAN-train / GAN-test) need a conditional run."""
    from gan_study.study.metrics import get_metric

    for name in run.eval.metrics:
        check(run.conditional.enabled or not get_metric(name).requires_conditional, "eval.metrics", name,
               "with conditional.enabled=false only metrics of unconditional runs; this one generates images of "
               "requested classes: set conditional.enabled=true (on a data set with labels)")


def _check_architecture(run: TrainRunConfig) -> None:
    """Build the networks on the meta device (no memory, no compute) to reject shapes they cannot take."""
    import torch

    from gan_study.study.train.loss import build_loss

    try:
        with torch.device("meta"):
            build_loss(run).build_networks(run.dataset.image_shape, run.train.z_dim,
                                           run.model.discriminator_batchnorm, run.model.generator_activation)
    except ValueError as error:
        raise ConfigError(f"dataset.image_shape = {list(run.dataset.image_shape)} does not fit the "
                          f"architecture: {error}") from error
    except TypeError as error:  # a loss on networks that have no conditional version
        if not run.conditional.enabled:
            raise
        raise ConfigError(f"conditional.enabled = True is not allowed for model {run.model.name!r}: {error}") from error
