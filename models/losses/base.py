"""The loss contract (docs/architecture.md, Contract 1): what a GAN loss is and the paper's training step."""
from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterator, NamedTuple

import torch
from torch import Tensor, nn

from gan_study.models.infogan import Discriminator, Generator


@dataclass
class Networks:
    """The two networks a loss trains. The VAE puts its decoder in `generator` and its encoder in `discriminator`."""

    generator: nn.Module
    discriminator: nn.Module


@dataclass
class Optimizers:
    generator: torch.optim.Optimizer
    discriminator: torch.optim.Optimizer


class LossOutput(NamedTuple):
    """A scalar loss to minimise and extra scalars to log; a plain `(loss, {})` tuple works as well."""

    loss: Tensor
    logs: dict[str, Tensor]


class GANLoss(nn.Module):
    """Base class of every loss. A subclass overrides `discriminator_loss` and `generator_loss`, and the hooks it needs.

    Hyperparameters are keyword arguments of the subclass's `__init__`. Any keyword the `__init__` does not
    take is refused with a ValueError (the configs pass `loss_params` straight through). State that must
    survive a checkpoint (BEGAN's k) is a buffer, so it travels in `state_dict()`.
    """

    name: ClassVar[str] = ""  # set by `register_loss`
    prior: ClassVar[str] = "uniform"  # "uniform": z ~ U[-1, 1]^d; "normal": z ~ N(0, I) (the VAE)
    resample_z_for_generator: ClassVar[bool] = False  # WGAN-GP draws a fresh z for the G step

    def __new__(cls, *args: Any, **hyperparameters: Any):
        _check_hyperparameter_names(cls, args, hyperparameters)
        return super().__new__(cls)

    def __init__(self, **hyperparameters: Any):
        super().__init__()
        if hyperparameters:
            field, value = next(iter(hyperparameters.items()))
            raise ValueError(f"{self.display_name()}: unknown hyperparameter {field} = {value!r}; "
                             f"allowed: none (this loss takes no hyperparameters)")

    @classmethod
    def display_name(cls) -> str:
        return cls.name or cls.__name__

    def build_networks(self, image_shape: tuple[int, int, int], z_dim: int, discriminator_batchnorm: bool,
                       generator_activation: str) -> Networks:
        """The InfoGAN G and D of the study; BEGAN and the VAE build their own."""
        return Networks(Generator(image_shape, z_dim, generator_activation),
                        Discriminator(image_shape, discriminator_batchnorm))

    def discriminator_loss(self, nets: Networks, real: Tensor, z: Tensor) -> LossOutput:
        """The loss D minimises on this step. It builds its own fake batch, detached from G."""
        raise NotImplementedError(f"{type(self).__name__} must implement discriminator_loss")

    def generator_loss(self, nets: Networks, real: Tensor, z: Tensor) -> LossOutput:
        raise NotImplementedError(f"{type(self).__name__} must implement generator_loss")

    def draw_noise(self, real: Tensor, z: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """The random draws the step's losses make besides z, in the order they make them (none here).

        A loss that draws (WGAN-GP, DRAGAN, the VAE) also takes them as `draws=`, so batched training draws
        them from each trial's own generator outside its vmapped step; left out, the loss draws them itself.
        """
        return {}

    def after_discriminator_step(self, nets: Networks) -> None:
        """Runs right after D's optimiser step (WGAN clips D's parameters here)."""

    def after_train_step(self, nets: Networks, real: Tensor, z: Tensor) -> dict[str, Tensor]:
        """Runs after the whole step (D update, and G update if any); returns extra detached scalars to log."""
        return {}

    def train_step(self, nets: Networks, optimizers: Optimizers, real: Tensor, z: Tensor, update_generator: bool,
                   sample_z: Callable[[], Tensor]) -> dict[str, Tensor]:
        """The paper's step (docs/protocol.md#training-loop): one D update, then one G update if `update_generator`.

        G runs in training mode inside D's loss too, so its batch-norm running statistics move on D steps
        as they do in the TF code. The G step reuses z unless `resample_z_for_generator`. D's parameters
        are frozen during the G step: they get neither gradient nor update. Values stay tensors, so the
        caller decides when to synchronise with the device.
        """
        optimizers.discriminator.zero_grad(set_to_none=True)
        d_loss, d_logs = self.discriminator_loss(nets, real, z)
        d_loss.backward()
        optimizers.discriminator.step()
        self.after_discriminator_step(nets)
        logs = {"loss_d": d_loss.detach(), **_detached(d_logs)}
        if update_generator:
            z_generator = sample_z() if self.resample_z_for_generator else z
            optimizers.generator.zero_grad(set_to_none=True)
            optimizers.discriminator.zero_grad(set_to_none=True)
            with frozen(nets.discriminator):
                g_loss, g_logs = self.generator_loss(nets, real, z_generator)
                g_loss.backward()
            optimizers.generator.step()
            logs.update(loss_g=g_loss.detach(), **_detached(g_logs))
        logs.update(_detached(self.after_train_step(nets, real, z)))
        return logs


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """No parameter gradients for `module` inside the block (input gradients still flow through it)."""
    flags = [(parameter, parameter.requires_grad) for parameter in module.parameters()]
    for parameter, _ in flags:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter, flag in flags:
            parameter.requires_grad_(flag)


def _detached(logs: dict[str, Tensor]) -> dict[str, Tensor]:
    return {key: value.detach() for key, value in logs.items()}


def _check_hyperparameter_names(cls: type, args: tuple, hyperparameters: dict[str, Any]) -> None:
    """Refuse positional values and keywords the loss's `__init__` does not take, naming what it does take."""
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return  # an `__init__(**params)` decides for itself (the base class refuses any)
    allowed = [parameter.name for parameter in parameters
               if parameter.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    name = cls.display_name()
    if args:
        raise ValueError(f"{name}: hyperparameters are keyword arguments, got positional {args!r}; "
                         f"allowed: {', '.join(allowed) or 'none'}")
    for field, value in hyperparameters.items():
        if field not in allowed:
            raise ValueError(f"{name}: unknown hyperparameter {field} = {value!r}; "
                             f"allowed: {', '.join(allowed) or 'none'}")
