"""K trials of one loss trained at once, as one batched computation: the second way to fill a GPU.

A 28×28 model at batch 64 leaves a large GPU mostly idle. Packing (`launch/packing.py`) runs K processes
per GPU; this module instead stacks the K trials' parameters along a leading dimension and runs one step
for all of them with `torch.func.vmap` over `functional_call` (the vmapped convolutions become grouped
ones), so each kernel launch serves K trials. Each trial keeps its own seed (initialisation, batch order,
latents), learning rate and Adam β₁/β₂; batch norm stays per trial (its statistics are per vmapped slice).
Each trial's numbers equal training it alone: in float64 to 1e-9 over several steps against the project's
own step, and in float32 the first step's losses of `run_training` (tests/train/test_batched_trials.py).

Which losses can be batched: those whose step is the plain D step / G step of `GANLoss.train_step` with no
random draws and no state inside the loss (`BATCHABLE_LOSSES`). The others say why in `NOT_BATCHABLE`; their
trials go through packing. One group shares everything but seed, lr and β: loss and its parameters, n_disc,
the architecture switches, image shape, z_dim, batch size and training data (`group_key`).

Not (yet) here: checkpoints and resume, evaluation, conditional losses. A batched group is a library and a
benchmark (`benchmarks/gpu_check.py`), not yet a launcher option.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from gan_study.models.losses import GANLoss, Networks
from gan_study.study.config import TrainRunConfig
from gan_study.study.data import ImageSet
from gan_study.study.train.batches import BatchStream
from gan_study.study.train.loss import build_loss

BATCHABLE_LOSSES = ("mm_gan", "ns_gan", "lsgan", "wgan")
NOT_BATCHABLE = {
    "wgan_gp": "its gradient penalty differentiates with torch.autograd.grad, which torch.func transforms do not "
               "support, and draws its interpolation weights inside the loss",
    "dragan": "its gradient penalty differentiates with torch.autograd.grad, which torch.func transforms do not "
              "support, and draws its perturbations inside the loss",
    "began": "its equilibrium variable k is state of the loss, updated after every step",
    "vae": "its step draws the reparameterisation noise inside the loss and updates both networks at once",
}


@dataclass(frozen=True)
class TrialSettings:
    """What may differ between the trials of one group."""

    seed: int
    lr: float
    beta1: float
    beta2: float = 0.999


def group_key(cfg: TrainRunConfig) -> tuple:
    """Trials with equal keys can be trained as one batched group (everything but seed, lr and β)."""
    model = cfg.model
    return (model.name, repr(sorted(model.loss_params.items())), model.n_disc, model.discriminator_batchnorm,
            model.generator_activation, cfg.dataset.name, tuple(cfg.dataset.image_shape), cfg.train.batch_size,
            cfg.train.z_dim, cfg.train.train_size, cfg.train.precision, cfg.conditional.enabled)


class StackedAdam:
    """Adam over stacked parameters (K, ...) with one lr, β₁, β₂ per trial: torch.optim.Adam's update, vectorised.

    The bias corrections are computed in float64, as torch's Adam computes them in Python floats.
    """

    def __init__(self, params: dict[str, Tensor], lr: Tensor, beta1: Tensor, beta2: Tensor, eps: float = 1e-8):
        self.params, self.eps = params, eps
        self.lr, self.beta1, self.beta2 = lr.double(), beta1.double(), beta2.double()
        self.exp_avg = {name: torch.zeros_like(value) for name, value in params.items()}
        self.exp_avg_sq = {name: torch.zeros_like(value) for name, value in params.items()}
        self.steps = 0

    @torch.no_grad()
    def step(self, grads: dict[str, Tensor]) -> None:
        self.steps += 1
        step_size = self.lr / (1 - self.beta1 ** self.steps)
        correction2_root = (1 - self.beta2 ** self.steps).sqrt()
        for name, param in self.params.items():
            shape = (-1,) + (1,) * (param.dim() - 1)
            grad = grads[name]
            beta1, beta2 = self.beta1.to(param).view(shape), self.beta2.to(param).view(shape)
            self.exp_avg[name].lerp_(grad, 1 - beta1)
            self.exp_avg_sq[name].mul_(beta2).addcmul_(grad, grad * (1 - beta2))
            denominator = (self.exp_avg_sq[name].sqrt() / correction2_root.to(param).view(shape)).add_(self.eps)
            param.sub_(self.exp_avg[name] / denominator * step_size.to(param).view(shape))


class _Bound:
    """A network called with given parameters and buffers (one trial's slice inside vmap)."""

    def __init__(self, module: nn.Module, params: dict[str, Tensor], buffers: dict[str, Tensor]):
        self.module, self.params, self.buffers = module, params, buffers

    def __call__(self, x: Tensor) -> Tensor:
        return functional_call(self.module, (self.params, self.buffers), (x,))


class _Parameters:
    """What a loss's `after_discriminator_step` sees of a network: its (stacked) parameters, for elementwise hooks."""

    def __init__(self, params: dict[str, Tensor]):
        self._params = params

    def parameters(self):
        return iter(self._params.values())


class BatchedTrials:
    """K trials of one loss, stepped together; `step()` returns each logged value as a (K,) tensor."""

    def __init__(self, loss: GANLoss, trials: Sequence[TrialSettings], train_set: ImageSet, *, n_disc: int,
                 batch_size: int, z_dim: int, discriminator_batchnorm: bool = True,
                 generator_activation: str = "lrelu", device: torch.device | str = "cpu"):
        if loss.name not in BATCHABLE_LOSSES:
            why = NOT_BATCHABLE.get(loss.name, "it is not one of the losses checked to batch exactly")
            raise ValueError(f"model.name = {loss.name!r} cannot be trained as batched trials: {why}; "
                             f"allowed: {', '.join(BATCHABLE_LOSSES)} (the others train one per process)")
        self.device = torch.device(device)
        self.loss, self.trials, self.n_disc, self.batch_size = loss.to(self.device), list(trials), n_disc, batch_size
        self.train_set = train_set.to(self.device)
        image_shape = tuple(train_set.images.shape[1:])
        generators, discriminators, self.latent_generators, self.streams = [], [], [], []
        for trial in self.trials:  # as run_training: seed, build the networks, then draw the latents
            torch.manual_seed(trial.seed)
            nets = loss.build_networks(image_shape, z_dim, discriminator_batchnorm, generator_activation)
            generators.append(nets.generator.to(self.device))
            discriminators.append(nets.discriminator.to(self.device))
            latents = torch.Generator(self.device)
            latents.set_state(torch.get_rng_state()) if self.device.type == "cpu" else latents.manual_seed(trial.seed)
            self.latent_generators.append(latents)
            self.streams.append(BatchStream(len(self.train_set), batch_size, trial.seed, self.device))
        self.g_params, self.g_buffers = stack_module_state(generators)
        self.d_params, self.d_buffers = stack_module_state(discriminators)
        self.generator_template = copy.deepcopy(generators[0]).to("meta")
        self.discriminator_template = copy.deepcopy(discriminators[0]).to("meta")
        settings = {key: torch.tensor([getattr(t, key) for t in self.trials], device=self.device, dtype=torch.float64)
                    for key in ("lr", "beta1", "beta2")}
        self.optimizer_g = StackedAdam(self.g_params, **settings)
        self.optimizer_d = StackedAdam(self.d_params, **settings)
        self.z_dim, self.step_count = z_dim, 0
        self._d_step = vmap(grad_and_value(self._discriminator_loss, has_aux=True), randomness="error")
        self._g_step = vmap(grad_and_value(self._generator_loss, has_aux=True), randomness="error")

    def __len__(self) -> int:
        return len(self.trials)

    # -- one trial's losses, as functions of its parameters (vmapped over the K trials) --------------

    def _nets(self, g_params, g_buffers, d_params, d_buffers) -> Networks:
        return Networks(_Bound(self.generator_template, g_params, g_buffers),
                        _Bound(self.discriminator_template, d_params, d_buffers))

    def _discriminator_loss(self, d_params, g_params, g_buffers, d_buffers, real, z):
        loss, logs = self.loss.discriminator_loss(self._nets(g_params, g_buffers, d_params, d_buffers), real, z)
        return loss, logs

    def _generator_loss(self, g_params, d_params, g_buffers, d_buffers, real, z):
        loss, logs = self.loss.generator_loss(self._nets(g_params, g_buffers, d_params, d_buffers), real, z)
        return loss, logs

    # -- the step ---------------------------------------------------------------------------------

    def sample_z(self) -> Tensor:
        """(K, batch, z_dim) latents, each trial's from its own stream (the loss's prior)."""
        draw: Callable[[torch.Generator], Tensor]
        if self.loss.prior == "uniform":
            draw = lambda g: torch.rand(self.batch_size, self.z_dim, generator=g, device=self.device) * 2 - 1  # noqa: E731
        else:
            draw = lambda g: torch.randn(self.batch_size, self.z_dim, generator=g, device=self.device)  # noqa: E731
        return torch.stack([draw(generator) for generator in self.latent_generators])

    def step(self) -> dict[str, Tensor]:
        """One step of the paper's loop for every trial: D update, then G update if due (as run_training)."""
        update_generator = self.step_count == 0 or (self.step_count - 1) % self.n_disc == 0
        dtype = self.d_params[next(iter(self.d_params))].dtype  # float32, or float64 in the exactness tests
        real = torch.stack([self.train_set.batch(stream.next()) for stream in self.streams]).to(dtype)
        z = self.sample_z()
        d_grads, (d_loss, d_logs) = self._d_step(self.d_params, self.g_params, self.g_buffers, self.d_buffers, real, z)
        self.optimizer_d.step(d_grads)
        with torch.no_grad():
            self.loss.after_discriminator_step(Networks(_Parameters(self.g_params), _Parameters(self.d_params)))
        logs = {"loss_d": d_loss.detach(), **{key: value.detach() for key, value in d_logs.items()}}
        if update_generator:
            z_generator = self.sample_z() if self.loss.resample_z_for_generator else z
            g_grads, (g_loss, g_logs) = self._g_step(self.g_params, self.d_params, self.g_buffers, self.d_buffers,
                                                     real, z_generator)
            self.optimizer_g.step(g_grads)
            logs.update(loss_g=g_loss.detach(), **{key: value.detach() for key, value in g_logs.items()})
        self.step_count += 1
        return logs

    # -- one trial out of the group ---------------------------------------------------------------

    def state_dicts(self, trial: int) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Trial `trial`'s generator and discriminator state_dicts, as its own networks would have them."""
        def one(params, buffers):
            return {name: value[trial].detach().clone() for name, value in {**params, **buffers}.items()}
        return one(self.g_params, self.g_buffers), one(self.d_params, self.d_buffers)


def batched_trials(configs: Sequence[TrainRunConfig]) -> BatchedTrials:
    """The group of `configs` (which must share `group_key`) on the first config's device, with its training data."""
    from gan_study.study.train.run import load_train_set, resolve_device

    if any(cfg.conditional.enabled for cfg in configs):
        raise ValueError("conditional.enabled = true cannot be trained as batched trials; allowed: false "
                         "(conditional runs train one per process)")
    other_optimizers = sorted({cfg.train.optimizer for cfg in configs} - {"adam"})
    if other_optimizers:
        raise ValueError(f"train.optimizer = {other_optimizers[0]!r} cannot be trained as batched trials; allowed: "
                         "'adam' (the batched step is a vectorised Adam; other optimisers train one per process)")
    keys = {group_key(cfg) for cfg in configs}
    if len(keys) != 1:
        raise ValueError(f"the {len(configs)} trials of one batched group differ in more than seed, lr and beta: "
                         f"{len(keys)} different groups (see study.train.batched.group_key)")
    first, device = configs[0], resolve_device(configs[0].device)
    trials = [TrialSettings(cfg.seed, cfg.model.lr, cfg.model.beta1, cfg.model.beta2) for cfg in configs]
    return BatchedTrials(build_loss(first), trials, load_train_set(first, device), n_disc=first.model.n_disc,
                         batch_size=first.train.batch_size, z_dim=first.train.z_dim,
                         discriminator_batchnorm=first.model.discriminator_batchnorm,
                         generator_activation=first.model.generator_activation, device=device)
