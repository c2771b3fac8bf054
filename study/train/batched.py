"""K trials of one loss trained at once, as one batched computation: the second way to fill a GPU.

A 28×28 model at batch 64 leaves a large GPU mostly idle. Packing (`launch/packing.py`) runs K processes
per GPU; this module instead stacks the K trials' parameters along a leading dimension and runs one step
for all of them with `torch.func.vmap` over `functional_call` (the vmapped convolutions become grouped
ones), so each kernel launch serves K trials. Each trial keeps its own seed (initialisation, batch order,
latents), learning rate and Adam β₁/β₂; batch norm stays per trial (its statistics are per vmapped slice).
Each trial's numbers equal training it alone: in float64 to 1e-9 over several steps against the project's
own step, and in float32 the first step's losses of `run_training` (tests/train/test_batched_trials.py).

Each slot is a trial with its own step count, so a trial moves in and out of a group: `trial_state(i)` is its
state in checkpoint.pt's format (`run_training` resumes it alone), `load_trial_state(i, checkpoint)` resumes
a run's checkpoint in slot i, and `freeze(i)` stops a (diverged) trial while the others go on; what a step
may change of a slot that must not move is put back (`kept_slices`), G is updated where each trial's own
schedule says (tests/train/test_batched_state.py).

Which losses can be batched: those whose step is the plain D step / G step of `GANLoss.train_step` with no
random draws and no state inside the loss (`BATCHABLE_LOSSES`). The others say why in `NOT_BATCHABLE`; their
trials go through packing. One group shares everything but seed, lr and β: loss and its parameters, n_disc,
the architecture switches, image shape, z_dim, batch size and training data (`group_key`).

Not (yet) here: evaluation, conditional losses, RMSProp; the launcher option is built on this API.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from gan_study.models.losses import GANLoss, Networks
from gan_study.study.config import TrainRunConfig
from gan_study.study.data import ImageSet
from gan_study.study.train.batched_optim import StackedAdam, param_group_format
from gan_study.study.train.batches import BatchStream
from gan_study.study.train.checkpoint import rng_state
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
    """K trials of one loss, stepped together; `step()` returns each logged value as a (K,) tensor.

    Each slot is one trial with its own step count: a trial can be taken out (`trial_state`) and resumed alone
    by `run_training`, a `run_training` checkpoint can be put into a slot (`load_trial_state`), and a trial can
    be frozen (`freeze`) while the others go on. `configs`, when given, are the trials' run configs: their
    optimiser's state_dict format (fused or not) and the `config` of `trial_state`.
    """

    def __init__(self, loss: GANLoss, trials: Sequence[TrialSettings], train_set: ImageSet, *, n_disc: int,
                 batch_size: int, z_dim: int, discriminator_batchnorm: bool = True,
                 generator_activation: str = "lrelu", device: torch.device | str = "cpu",
                 configs: Sequence[TrainRunConfig] | None = None):
        if loss.name not in BATCHABLE_LOSSES:
            why = NOT_BATCHABLE.get(loss.name, "it is not one of the losses checked to batch exactly")
            raise ValueError(f"model.name = {loss.name!r} cannot be trained as batched trials: {why}; "
                             f"allowed: {', '.join(BATCHABLE_LOSSES)} (the others train one per process)")
        self.device = torch.device(device)
        self.loss, self.trials, self.n_disc, self.batch_size = loss.to(self.device), list(trials), n_disc, batch_size
        self.train_set = train_set.to(self.device)
        self.image_shape = tuple(train_set.images.shape[1:])
        generators, discriminators, self.latent_generators, self.streams, self.rng_states = [], [], [], [], []
        for trial in self.trials:  # as run_training: seed, build the networks, then draw the latents
            torch.manual_seed(trial.seed)
            nets = loss.build_networks(self.image_shape, z_dim, discriminator_batchnorm, generator_activation)
            generators.append(nets.generator.to(self.device))
            discriminators.append(nets.discriminator.to(self.device))
            self.rng_states.append(rng_state())
            latents = torch.Generator(self.device)
            latents.set_state(self._latent_part(self.rng_states[-1]))
            self.latent_generators.append(latents)
            self.streams.append(BatchStream(len(self.train_set), batch_size, trial.seed, self.device))
        self.g_params, self.g_buffers = stack_module_state(generators)
        self.d_params, self.d_buffers = stack_module_state(discriminators)
        self.loss_state = {name: torch.stack([value] * len(self)) for name, value in loss.state_dict().items()}
        self.generator_template = copy.deepcopy(generators[0]).to("meta")
        self.discriminator_template = copy.deepcopy(discriminators[0]).to("meta")
        settings = {key: torch.tensor([getattr(t, key) for t in self.trials], device=self.device, dtype=torch.float64)
                    for key in ("lr", "beta1", "beta2")}
        self.optimizer_g = StackedAdam(self.g_params, **settings)
        self.optimizer_d = StackedAdam(self.d_params, **settings)
        self.configs = [cfg.to_dict() for cfg in configs] if configs is not None else [None] * len(self)
        self.optimizer_formats = [self._optimizer_format(trial, cfg) for trial, cfg in
                                  zip(self.trials, configs if configs is not None else [None] * len(self))]
        self.z_dim, self.step_count = z_dim, 0
        self.trial_steps, self.frozen = [0] * len(self), [False] * len(self)
        self.last_logged: dict[int, list[str]] = {}
        self._d_step = vmap(grad_and_value(self._discriminator_loss, has_aux=True), randomness="error")
        self._g_step = vmap(grad_and_value(self._generator_loss, has_aux=True), randomness="error")

    def __len__(self) -> int:
        return len(self.trials)

    def _latent_part(self, rng: dict) -> Tensor:
        """The generator state in `rng` (a checkpoint's `rng`) that the latents are drawn from on this device."""
        if self.device.type == "cpu":
            return rng["torch"].cpu()
        return rng["cuda"][self.device.index if self.device.index is not None else torch.cuda.current_device()].cpu()

    def _optimizer_format(self, trial: TrialSettings, cfg: TrainRunConfig | None) -> dict:
        """The param_group format of the torch optimiser the trial's own run would use (its config's, or Adam's)."""
        from gan_study.study.train.run import make_optimizer

        probe = [nn.Parameter(torch.zeros(1, device=self.device))]
        optimizer = (make_optimizer(probe, cfg, self.device) if cfg is not None else
                     torch.optim.Adam(probe, lr=trial.lr, betas=(trial.beta1, trial.beta2), eps=1e-8))
        return param_group_format(optimizer)

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

    def sample_z(self, trials: Sequence[int] | None = None) -> Tensor:
        """(K, batch, z_dim) latents, each trial's from its own stream (the loss's prior); zeros for trials not
        in `trials` (default: all), whose streams do not move."""
        draw: Callable[[torch.Generator], Tensor]
        if self.loss.prior == "uniform":
            draw = lambda g: torch.rand(self.batch_size, self.z_dim, generator=g, device=self.device) * 2 - 1  # noqa: E731
        else:
            draw = lambda g: torch.randn(self.batch_size, self.z_dim, generator=g, device=self.device)  # noqa: E731
        wanted = set(range(len(self)) if trials is None else trials)
        return torch.stack([draw(generator) if index in wanted else
                            torch.zeros(self.batch_size, self.z_dim, device=self.device)
                            for index, generator in enumerate(self.latent_generators)])

    def _real_batches(self, trials: Sequence[int], dtype: torch.dtype) -> Tensor:
        """(K, batch, C, H, W): each trial in `trials` takes its next batch; the others get zeros."""
        blank = torch.zeros((self.batch_size, *self.image_shape), device=self.device)
        return torch.stack([self.train_set.batch(stream.next()) if index in trials else blank
                            for index, stream in enumerate(self.streams)]).to(dtype)

    def _state_tensors(self) -> list[Tensor]:
        """Everything a step may change of a trial (parameters, buffers, optimiser and loss state), stacked."""
        return [*self._generator_step_tensors(), *self.d_params.values(), *self.optimizer_d.tensors(),
                *self.loss_state.values()]

    def _generator_step_tensors(self) -> list[Tensor]:
        """What a G step changes: G's parameters, both networks' batch-norm statistics, G's optimiser state."""
        return [*self.g_params.values(), *self.g_buffers.values(), *self.d_buffers.values(),
                *self.optimizer_g.tensors()]

    def step(self) -> dict[str, Tensor]:
        """One step of the paper's loop for every trial not frozen: D update, then G update where due (as
        run_training, at each trial's own step count). `trial_logs` gives one trial's values as its run logs them."""
        active = [index for index, frozen in enumerate(self.frozen) if not frozen]
        due = [index for index in active if generator_due(self.trial_steps[index], self.n_disc)]
        if not active:
            return {}
        dtype = self.d_params[next(iter(self.d_params))].dtype  # float32, or float64 in the exactness tests
        real, z = self._real_batches(active, dtype), self.sample_z(active)
        with kept_slices(self._state_tensors(), [index for index in range(len(self)) if index not in active]):
            d_grads, (d_loss, d_logs) = self._d_step(self.d_params, self.g_params, self.g_buffers, self.d_buffers,
                                                     real, z)
            self.optimizer_d.step(d_grads)
            with torch.no_grad():
                self.loss.after_discriminator_step(Networks(_Parameters(self.g_params), _Parameters(self.d_params)))
            logs = {"loss_d": d_loss.detach(), **{key: value.detach() for key, value in d_logs.items()}}
            d_keys = list(logs)
            if due:
                z_generator = self.sample_z(due) if self.loss.resample_z_for_generator else z
                with kept_slices(self._generator_step_tensors(), [index for index in active if index not in due]):
                    g_grads, (g_loss, g_logs) = self._g_step(self.g_params, self.d_params, self.g_buffers,
                                                             self.d_buffers, real, z_generator)
                    self.optimizer_g.step(g_grads)
                logs.update(loss_g=g_loss.detach(), **{key: value.detach() for key, value in g_logs.items()})
        self.last_logged = {index: list(logs) if index in due else d_keys for index in active}
        for index in active:
            self.trial_steps[index] += 1
        self.step_count += 1
        return logs

    def trial_logs(self, logs: dict[str, Tensor], trial: int) -> dict[str, Tensor]:
        """Trial `trial`'s values of the last step's `logs`, with the keys its own run's step logs (none if frozen)."""
        return {key: logs[key][trial] for key in self.last_logged.get(trial, ())}

    # -- one trial out of the group, or into it -----------------------------------------------------

    def state_dicts(self, trial: int) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Trial `trial`'s generator and discriminator state_dicts, as its own networks would have them."""
        def one(params, buffers):
            return {name: value[trial].detach().clone() for name, value in {**params, **buffers}.items()}
        return one(self.g_params, self.g_buffers), one(self.d_params, self.d_buffers)

    def trial_state(self, trial: int) -> dict[str, Any]:
        """Trial `trial`'s training state in checkpoint.pt's format (study/train/checkpoint.py): networks, loss
        state, optimisers as torch's state_dicts, batch stream, RNG and step, and its `config` when known.

        The run's bookkeeping (loss_sums, loss_counts, summary, elapsed_s, hardware) is the caller's to add
        before `save_checkpoint`; with it `run_training` resumes the trial alone exactly where it stands here.
        """
        generator, discriminator = self.state_dicts(trial)
        rng = dict(self.rng_states[trial])
        latents = self.latent_generators[trial].get_state()
        if self.device.type == "cpu":
            rng["torch"] = latents
        else:
            rng["cuda"] = list(rng["cuda"])
            rng["cuda"][self.device.index if self.device.index is not None else torch.cuda.current_device()] = latents
        state = {"step": self.trial_steps[trial], "generator": generator, "discriminator": discriminator,
                 "loss": {name: value[trial].clone() for name, value in self.loss_state.items()},
                 "optimizer_g": self.optimizer_g.trial_state(trial, self.optimizer_formats[trial]),
                 "optimizer_d": self.optimizer_d.trial_state(trial, self.optimizer_formats[trial]),
                 "stream": self.streams[trial].state_dict(), "rng": rng}
        if self.configs[trial] is not None:
            state["config"] = self.configs[trial]
        return state

    @torch.no_grad()
    def load_trial_state(self, trial: int, state: dict[str, Any]) -> None:
        """Put a checkpoint of `run_training` (or a `trial_state`) into slot `trial`, which goes on from it (unfrozen).

        The checkpoint must be of this group's networks, loss and optimiser; its lr and β replace the slot's.
        """
        missing = [key for key in ("step", "generator", "discriminator", "loss", "optimizer_g", "optimizer_d",
                                   "stream", "rng") if key not in state]
        if missing:
            raise ValueError(f"the state for trial {trial} lacks {missing}; allowed: a checkpoint of run_training "
                             "or a BatchedTrials.trial_state")
        _load_slot({**self.g_params, **self.g_buffers}, state["generator"], trial, "generator")
        _load_slot({**self.d_params, **self.d_buffers}, state["discriminator"], trial, "discriminator")
        _load_slot(self.loss_state, state["loss"], trial, "loss")
        self.optimizer_formats[trial] = self.optimizer_g.load_trial_state(trial, state["optimizer_g"], "optimizer_g")
        self.optimizer_d.load_trial_state(trial, state["optimizer_d"], "optimizer_d")
        self.streams[trial].load_state_dict(state["stream"])
        self.rng_states[trial] = state["rng"]
        self.latent_generators[trial].set_state(self._latent_part(state["rng"]))
        self.trial_steps[trial], self.frozen[trial] = int(state["step"]), False
        self.configs[trial] = state.get("config", self.configs[trial])
        settings = self.optimizer_g.settings
        self.trials[trial] = replace(self.trials[trial], lr=float(settings["lr"][trial]),
                                     beta1=float(settings["beta1"][trial]), beta2=float(settings["beta2"][trial]))

    def freeze(self, trial: int) -> None:
        """From now on trial `trial` does not move (a diverged trial): its parameters, buffers, optimiser and loss
        state, batch stream, RNG and step stay as they are while the others go on; `load_trial_state` frees the slot."""
        if not 0 <= trial < len(self):
            raise ValueError(f"trial = {trial} is not allowed; allowed: 0 to {len(self) - 1}")
        self.frozen[trial] = True


def generator_due(step: int, n_disc: int) -> bool:
    """Whether G is updated at the 0-based D step `step`: at 0 and whenever (step − 1) mod n_disc == 0."""
    return step == 0 or (step - 1) % n_disc == 0


@contextmanager
def kept_slices(tensors: list[Tensor], trials: Sequence[int]) -> Iterator[None]:
    """After the block, the slices `trials` of the stacked `tensors` are what they were before it."""
    if not trials:
        yield
        return
    index = torch.tensor(list(trials), device=tensors[0].device)
    saved = [tensor.index_select(0, index) for tensor in tensors]
    yield
    with torch.no_grad():
        for tensor, value in zip(tensors, saved):
            tensor.index_copy_(0, index, value)


def _load_slot(stacked: dict[str, Tensor], state_dict: dict[str, Tensor], trial: int, field: str) -> None:
    """Copy a state_dict into slot `trial` of the stacked tensors of the same names."""
    if set(state_dict) != set(stacked):
        raise ValueError(f"{field} has {sorted(set(state_dict) - set(stacked))} the group lacks and lacks "
                         f"{sorted(set(stacked) - set(state_dict))}; allowed: the group's {field} entries")
    for name, value in stacked.items():
        value[trial].copy_(state_dict[name])


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
                         generator_activation=first.model.generator_activation, device=device, configs=configs)
