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

All eight losses batch, class-conditional or not (`ConditionalLoss`, AC-GAN or projection head), with Adam
or RMSProp (`train.optimizer`, `batched_optim.py`), each trial equal to its run to 1e-9 in float64
(tests/train/test_batched_losses.py). What makes a step vmappable: the random draws inside it (WGAN-GP's
interpolation weights, DRAGAN's perturbation and weights, the VAE's ε, the fake labels) are drawn before it,
from each trial's own stream in its run's order (`GANLoss.draw_noise`), and passed in; the penalties
differentiate with torch.func.grad inside the vmapped step (`functional_gradients`); loss state (BEGAN's k)
is stacked (K,) and called through `functional_call`; the VAE's one joint update differentiates both
networks. A loss not in `BATCHABLE_LOSSES` (a plugin's) is refused: it may draw inside its step. One group
shares everything but seed, lr and β: loss and its parameters, n_disc, the architecture switches, image
shape, z_dim, batch size, optimiser, conditioning and training data (`group_key`).

Evaluation is the caller's (study/train/batched_run.py).
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from gan_study.models.losses import ConditionalLoss, GANLoss, Networks
from gan_study.models.losses.conditional import LabelledDiscriminator, LabelledGenerator, LabelledNetworks, LabelRouting
from gan_study.models.losses.penalties import functional_gradients
from gan_study.study.config import TrainRunConfig
from gan_study.study.data import ImageSet
from gan_study.study.train.batched_optim import StackedAdam, StackedRMSprop, param_group_format
from gan_study.study.train.batches import BatchStream
from gan_study.study.train.checkpoint import rng_state
from gan_study.study.train.loss import build_loss

BATCHABLE_LOSSES = ("mm_gan", "ns_gan", "lsgan", "wgan", "wgan_gp", "dragan", "began", "vae")
NOT_BATCHABLE: dict[str, str] = {}
"""Built-in losses that cannot be batched, with the reason (none now); a plugin loss is refused unless listed above."""
JOINT_LOSSES = ("vae",)
"""Losses whose step is one joint update of both networks on `objective(nets, real, draws)`, not a D and a G step."""
OPTIMIZERS = {"adam": StackedAdam, "rmsprop": StackedRMSprop}


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
            cfg.train.z_dim, cfg.train.train_size, cfg.train.precision, cfg.train.optimizer,
            repr(cfg.conditional) if cfg.conditional.enabled else False)


class _Bound:
    """A network called with given parameters and buffers (one trial's slice inside vmap)."""

    def __init__(self, module: nn.Module, params: dict[str, Tensor], buffers: dict[str, Tensor]):
        self.module, self.params, self.buffers = module, params, buffers

    def __call__(self, *inputs: Tensor):
        return functional_call(self.module, (self.params, self.buffers), inputs)


class _LossCall(nn.Module):
    """Calls a method of the loss; through `functional_call` the loss's buffers (BEGAN's k) are one trial's slice."""

    def __init__(self, loss: GANLoss):
        super().__init__()
        self.loss = loss

    def forward(self, method: str, *args, **kwargs):
        return getattr(self.loss, method)(*args, **kwargs)


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
    optimiser's state_dict format (fused or not) and the `config` of `trial_state`. `loss` may be a
    `ConditionalLoss` (then `train_set` has labels); `optimizer` is `train.optimizer` (adam or rmsprop).
    """

    def __init__(self, loss: GANLoss, trials: Sequence[TrialSettings], train_set: ImageSet, *, n_disc: int,
                 batch_size: int, z_dim: int, discriminator_batchnorm: bool = True,
                 generator_activation: str = "lrelu", device: torch.device | str = "cpu",
                 configs: Sequence[TrainRunConfig] | None = None, optimizer: str = "adam"):
        self.inner_loss = loss.loss if isinstance(loss, ConditionalLoss) else loss
        name = self.inner_loss.name
        if name not in BATCHABLE_LOSSES:
            why = NOT_BATCHABLE.get(name, "it is not one of the losses checked to batch exactly")
            raise ValueError(f"model.name = {name!r} cannot be trained as batched trials: {why}; "
                             f"allowed: {', '.join(BATCHABLE_LOSSES)} (the others train one per process)")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"train.optimizer = {optimizer!r} cannot be trained as batched trials; allowed: "
                             f"{', '.join(OPTIMIZERS)}")
        self.num_classes = loss.num_classes if isinstance(loss, ConditionalLoss) else None
        if self.num_classes is not None and train_set.labels is None:
            raise ValueError(f"conditional.enabled = true needs labels; dataset {train_set.name!r} has none")
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
        kind = OPTIMIZERS[optimizer]
        settings = {key: torch.tensor([getattr(t, key) for t in self.trials], device=self.device, dtype=torch.float64)
                    for key in kind.settings_names}
        self.optimizer_g, self.optimizer_d = kind(self.g_params, **settings), kind(self.d_params, **settings)
        self.configs = [cfg.to_dict() for cfg in configs] if configs is not None else [None] * len(self)
        self.optimizer_formats = [self._optimizer_format(trial, cfg, optimizer) for trial, cfg in
                                  zip(self.trials, configs if configs is not None else [None] * len(self))]
        self.z_dim, self.step_count = z_dim, 0
        self.trial_steps, self.frozen = [0] * len(self), [False] * len(self)
        self.last_logged: dict[int, list[str]] = {}
        self._call = _LossCall(self.loss)
        self._joint = name in JOINT_LOSSES
        self._after_step = type(self.inner_loss).after_train_step is not GANLoss.after_train_step
        self._d_step = vmap(grad_and_value(self._discriminator_loss, has_aux=True), randomness="error")
        self._g_step = vmap(grad_and_value(self._generator_loss, has_aux=True), randomness="error")
        self._joint_step = vmap(grad_and_value(self._joint_loss, argnums=(0, 1), has_aux=True), randomness="error")
        self._after_train_step = vmap(self._after_train_step_of_one, randomness="error")

    def __len__(self) -> int:
        return len(self.trials)

    def _latent_part(self, rng: dict) -> Tensor:
        """The generator state in `rng` (a checkpoint's `rng`) that the latents are drawn from on this device."""
        if self.device.type == "cpu":
            return rng["torch"].cpu()
        return rng["cuda"][self.device.index if self.device.index is not None else torch.cuda.current_device()].cpu()

    def _optimizer_format(self, trial: TrialSettings, cfg: TrainRunConfig | None, optimizer: str) -> dict:
        """The param_group format of the torch optimiser the trial's own run would use (its config's, or torch's)."""
        from gan_study.study.train.run import make_optimizer

        probe = [nn.Parameter(torch.zeros(1, device=self.device))]
        if cfg is not None:
            return param_group_format(make_optimizer(probe, cfg, self.device))
        return OPTIMIZERS[optimizer].torch_format(probe, trial)

    # -- one trial's losses, as functions of its parameters (vmapped over the K trials) --------------

    def _nets(self, g_params, g_buffers, d_params, d_buffers, real, labels) -> Networks:
        """One trial's networks; with labels, the label-bound views a conditional loss expects."""
        nets = Networks(_Bound(self.generator_template, g_params, g_buffers),
                        _Bound(self.discriminator_template, d_params, d_buffers))
        if not labels:
            return nets
        routing = LabelRouting(real, labels["real"], labels["fake"])
        return LabelledNetworks(LabelledGenerator(nets.generator, routing),
                                LabelledDiscriminator(nets.discriminator, routing), routing)

    def _discriminator_loss(self, d_params, g_params, g_buffers, d_buffers, loss_state, real, z, labels, draws):
        nets = self._nets(g_params, g_buffers, d_params, d_buffers, real, labels)
        with functional_gradients(d_buffers):  # D's own dict: its penalty forward updates them
            loss, logs = functional_call(self._call, _prefixed(loss_state), ("discriminator_loss", nets, real, z),
                                         {"draws": draws} if draws else {})
        return loss, logs

    def _generator_loss(self, g_params, d_params, g_buffers, d_buffers, loss_state, real, z, labels):
        nets = self._nets(g_params, g_buffers, d_params, d_buffers, real, labels)
        loss, logs = functional_call(self._call, _prefixed(loss_state), ("generator_loss", nets, real, z))
        return loss, logs

    def _joint_loss(self, g_params, d_params, g_buffers, d_buffers, real, labels, draws):
        loss, logs = self.inner_loss.objective(self._nets(g_params, g_buffers, d_params, d_buffers, real, labels),
                                               real, draws)
        return loss, logs

    def _after_train_step_of_one(self, g_params, g_buffers, d_params, d_buffers, loss_state, real, z, labels):
        nets = self._nets(g_params, g_buffers, d_params, d_buffers, real, labels)
        return functional_call(self._call, _prefixed(loss_state), ("after_train_step", nets, real, z))

    # -- the step ---------------------------------------------------------------------------------

    def sample_z(self, trials: Sequence[int] | None = None) -> Tensor:
        """(K, batch, z_dim) latents, each trial's from its own stream (the loss's prior); zeros for trials not
        in `trials` (default: all), whose streams do not move."""
        draw: Callable[[torch.Generator], Tensor]
        if self.loss.prior == "uniform":
            draw = lambda g: torch.rand(self.batch_size, self.z_dim, generator=g, device=self.device) * 2 - 1  # noqa: E731
        else:
            draw = lambda g: torch.randn(self.batch_size, self.z_dim, generator=g, device=self.device)  # noqa: E731
        return self._per_trial(lambda index: draw(self.latent_generators[index]),
                               range(len(self)) if trials is None else trials)

    def _per_trial(self, make: Callable[[int], Any], trials: Sequence[int]) -> Any:
        """make(i) stacked over the K slots (a tensor or a dict of them); zeros for slots not in `trials`."""
        made = {index: make(index) for index in trials}
        template = next(iter(made.values()))
        if isinstance(template, dict):
            return {key: torch.stack([made[index][key] if index in made else torch.zeros_like(value)
                                      for index in range(len(self))]) for key, value in template.items()}
        return torch.stack([made.get(index, torch.zeros_like(template)) for index in range(len(self))])

    def _batches(self, trials: Sequence[int], dtype: torch.dtype) -> tuple[Tensor, Tensor | None]:
        """(K, batch, C, H, W) real images and (K, batch) their labels (None unconditional); each trial in
        `trials` takes its next batch, the others zeros."""
        indices = self._per_trial(lambda index: self.streams[index].next(), trials)
        real = self.train_set.batch(indices).to(dtype)
        return real, None if self.num_classes is None else self.train_set.labels[indices]

    def _labels(self, real_labels: Tensor | None, trials: Sequence[int]) -> dict[str, Tensor]:
        """A conditional step's labels: the real batch's, and fake ones drawn as run_training draws them (after z)."""
        if real_labels is None:
            return {}
        fake = self._per_trial(lambda index: torch.randint(self.num_classes, (self.batch_size,), device=self.device,
                                                           generator=self.latent_generators[index]), trials)
        # the conditional VAE draws them too, but both its networks see the image's class
        return {"real": real_labels, "fake": real_labels if self._joint else fake}

    def _draws(self, real: Tensor, z: Tensor, trials: Sequence[int]) -> dict[str, Tensor]:
        """The step's random draws besides z and labels (penalties, reparameterisation), each trial's from its stream."""
        return self._per_trial(lambda index: self.loss.draw_noise(real[index], z[index],
                                                                  self.latent_generators[index]), trials)

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
        run_training, at each trial's own step count); the VAE's one joint update. `trial_logs` gives one
        trial's values as its run logs them."""
        active = [index for index, frozen in enumerate(self.frozen) if not frozen]
        if not active:
            return {}
        dtype = self.d_params[next(iter(self.d_params))].dtype  # float32, or float64 in the exactness tests
        real, real_labels = self._batches(active, dtype)
        z = self.sample_z(active)
        labels = self._labels(real_labels, active)
        draws = self._draws(real, z, active)
        with kept_slices(self._state_tensors(), [index for index in range(len(self)) if index not in active]):
            if self._joint:
                logs = self._joint_update(real, labels, draws)
                self.last_logged = {index: list(logs) for index in active}
            else:
                logs = self._gan_update(active, real, z, labels, draws)
        for index in active:
            self.trial_steps[index] += 1
        self.step_count += 1
        return logs

    def _joint_update(self, real: Tensor, labels: dict[str, Tensor], draws: dict[str, Tensor]) -> dict[str, Tensor]:
        """The VAE's step: one objective, the gradients of both networks, both optimisers (its train_step)."""
        (g_grads, d_grads), (loss, logs) = self._joint_step(self.g_params, self.d_params, self.g_buffers,
                                                            self.d_buffers, real, labels, draws)
        self.optimizer_d.step(d_grads)
        self.optimizer_g.step(g_grads)
        total = loss.detach()
        return {"loss_d": total, "loss_g": total, "loss_vae": total, **_detached(logs)}

    def _gan_update(self, active: list[int], real: Tensor, z: Tensor, labels: dict[str, Tensor],
                    draws: dict[str, Tensor]) -> dict[str, Tensor]:
        """GANLoss.train_step for the active trials: D update, G update where due, the loss's after-step hook."""
        due = [index for index in active if generator_due(self.trial_steps[index], self.n_disc)]
        d_grads, (d_loss, d_logs) = self._d_step(self.d_params, self.g_params, self.g_buffers, self.d_buffers,
                                                 self.loss_state, real, z, labels, draws)
        self.optimizer_d.step(d_grads)
        with torch.no_grad():
            self.loss.after_discriminator_step(Networks(_Parameters(self.g_params), _Parameters(self.d_params)))
        logs = {"loss_d": d_loss.detach(), **_detached(d_logs)}
        g_keys: list[str] = []
        if due:
            z_generator = self.sample_z(due) if self.loss.resample_z_for_generator else z
            with kept_slices(self._generator_step_tensors(), [index for index in active if index not in due]):
                g_grads, (g_loss, g_logs) = self._g_step(self.g_params, self.d_params, self.g_buffers,
                                                         self.d_buffers, self.loss_state, real, z_generator, labels)
                self.optimizer_g.step(g_grads)
            g_logs = {"loss_g": g_loss.detach(), **_detached(g_logs)}
            logs.update(g_logs)
            g_keys = list(g_logs)
        after = {}
        if self._after_step:
            with torch.no_grad():
                after = _detached(self._after_train_step(self.g_params, self.g_buffers, self.d_params, self.d_buffers,
                                                         self.loss_state, real, z, labels))
            logs.update(after)
        d_keys = [key for key in logs if key not in g_keys]
        self.last_logged = {index: [key for key in logs if index in due or key in d_keys] for index in active}
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
        self.trials[trial] = replace(self.trials[trial], **{name: float(value[trial])
                                                            for name, value in self.optimizer_g.settings.items()})

    def freeze(self, trial: int) -> None:
        """From now on trial `trial` does not move (a diverged trial): its parameters, buffers, optimiser and loss
        state, batch stream, RNG and step stay as they are while the others go on; `load_trial_state` frees the slot."""
        if not 0 <= trial < len(self):
            raise ValueError(f"trial = {trial} is not allowed; allowed: 0 to {len(self) - 1}")
        self.frozen[trial] = True


def _prefixed(loss_state: dict[str, Tensor]) -> dict[str, Tensor]:
    """The loss's buffers as `_LossCall` names them."""
    return {f"loss.{name}": value for name, value in loss_state.items()}


def _detached(logs: dict[str, Tensor]) -> dict[str, Tensor]:
    return {key: value.detach() for key, value in logs.items()}


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

    keys = {group_key(cfg) for cfg in configs}
    if len(keys) != 1:
        raise ValueError(f"the {len(configs)} trials of one batched group differ in more than seed, lr and beta: "
                         f"{len(keys)} different groups (see study.train.batched.group_key)")
    first, device = configs[0], resolve_device(configs[0].device)
    if first.train.precision != "fp32":
        raise ValueError(f"train.precision = {first.train.precision!r} cannot be trained as batched trials; allowed: "
                         "'fp32' (the batched step has no autocast; bf16 trials train one per process)")
    trials = [TrialSettings(cfg.seed, cfg.model.lr, cfg.model.beta1, cfg.model.beta2) for cfg in configs]
    return BatchedTrials(build_loss(first), trials, load_train_set(first, device), n_disc=first.model.n_disc,
                         batch_size=first.train.batch_size, z_dim=first.train.z_dim,
                         discriminator_batchnorm=first.model.discriminator_batchnorm,
                         generator_activation=first.model.generator_activation, device=device, configs=configs,
                         optimizer=first.train.optimizer)
