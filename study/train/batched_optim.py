"""Optimisers over stacked parameters (K, ...) with one lr, β per trial, and each trial's state in torch.optim's format.

A batched group updates all K trials' parameters with one vectorised step that is torch.optim's algorithm
elementwise; `trial_state` / `load_trial_state` convert one trial's slice to and from the `state_dict()` of the
torch optimiser `run_training` uses, so a trial moves between a group and a run of its own without a change.
"""
from __future__ import annotations

import torch
from torch import Tensor


def param_group_format(optimizer: torch.optim.Optimizer) -> dict:
    """The entries of `optimizer`'s one param_group but its parameters (fused or not, its defaults, as torch saves them)."""
    (group,) = optimizer.state_dict()["param_groups"]
    return {key: value for key, value in group.items() if key != "params"}


class StackedOptimizer:
    """Per-trial settings (K,) and per-parameter state tensors (K, ...); subclasses give the update."""

    kind = ""
    state_names: tuple[str, ...] = ()
    settings_names: tuple[str, ...] = ("lr",)

    def __init__(self, params: dict[str, Tensor], **settings: Tensor):
        self.params = params
        self.settings = {name: settings[name].double().clone() for name in self.settings_names}
        self.state = {state: {name: torch.zeros_like(value) for name, value in params.items()}
                      for state in self.state_names}
        first = next(iter(params.values()))
        self.steps = torch.zeros(first.shape[0], dtype=torch.float64, device=first.device)

    def tensors(self) -> list[Tensor]:
        """Everything a step changes besides the parameters (to keep a trial's slice as it is)."""
        return [self.steps, *(value for per_param in self.state.values() for value in per_param.values())]

    def per_trial(self, name: str, like: Tensor) -> Tensor:
        """Setting `name` as a (K, 1, ...) column in `like`'s dtype, to broadcast against a stacked parameter."""
        return self.settings[name].to(like).view((-1,) + (1,) * (like.dim() - 1))

    # -- one trial in torch.optim's format -------------------------------------------------------------

    @classmethod
    def torch_format(cls, probe: list[Tensor], trial) -> dict:
        """The param_group format of the torch optimiser this one is, with its defaults and `trial`'s settings
        (a TrialSettings)."""
        raise NotImplementedError

    def torch_settings(self, trial: int) -> dict:
        """Trial `trial`'s param_group entries as torch names them."""
        return {"lr": float(self.settings["lr"][trial])}

    def load_torch_settings(self, trial: int, group: dict, field: str) -> None:
        self.settings["lr"][trial] = group["lr"]

    def trial_state(self, trial: int, group_format: dict) -> dict:
        """Trial `trial`'s optimiser as the torch optimiser's `state_dict()`; `group_format`: its param_group entries."""
        state = {}
        steps = float(self.steps[trial])
        if steps > 0:
            state = {index: {"step": torch.tensor(steps, dtype=torch.float32),
                             **{kind: self.state[kind][name][trial].clone() for kind in self.state_names}}
                     for index, name in enumerate(self.params)}
        group = {**group_format, **self.torch_settings(trial), "params": list(range(len(self.params)))}
        return {"state": state, "param_groups": [group]}

    def load_trial_state(self, trial: int, state_dict: dict, field: str) -> dict:
        """Put a torch optimiser's `state_dict()` (of this kind, over these parameters) into slot `trial`.

        Returns its param_group entries but the parameters: the format `trial_state` writes the slot in."""
        groups, names = state_dict["param_groups"], list(self.params)
        if len(groups) != 1 or len(groups[0]["params"]) != len(names):
            raise ValueError(f"{field} has {len(groups)} param group(s) of "
                             f"{[len(group['params']) for group in groups]} parameters; allowed: one group of the "
                             f"network's {len(names)} parameters")
        (group,) = groups
        saved = state_dict["state"]
        kinds = {key for entry in saved.values() for key in entry} - {"step"}
        if kinds - set(self.state_names):
            raise ValueError(f"{field} holds {sorted(kinds)}, not {self.kind}'s state; allowed: "
                             f"{', '.join(self.state_names)} (the group's train.optimizer is {self.kind})")
        self.load_torch_settings(trial, group, field)
        steps = {float(entry["step"]) for entry in saved.values()}
        if len(steps) > 1:
            raise ValueError(f"{field}'s parameters were stepped {sorted(steps)} times; allowed: one count for all")
        self.steps[trial] = steps.pop() if steps else 0.0
        for index, name in zip(group["params"], names):
            for state in self.state_names:
                value = saved[index][state] if index in saved else torch.zeros_like(self.params[name][trial])
                self.state[state][name][trial].copy_(value)
        return {key: value for key, value in group.items() if key != "params"}


class StackedAdam(StackedOptimizer):
    """torch.optim.Adam's update (no weight decay, no amsgrad), vectorised over K trials with lr, β₁, β₂ each.

    The bias corrections are computed in float64, as torch's Adam computes them in Python floats.
    """

    kind = "adam"
    state_names = ("exp_avg", "exp_avg_sq")
    settings_names = ("lr", "beta1", "beta2")

    def __init__(self, params: dict[str, Tensor], lr: Tensor, beta1: Tensor, beta2: Tensor, eps: float = 1e-8):
        super().__init__(params, lr=lr, beta1=beta1, beta2=beta2)
        self.eps = eps
        self.exp_avg, self.exp_avg_sq = self.state["exp_avg"], self.state["exp_avg_sq"]

    @torch.no_grad()
    def step(self, grads: dict[str, Tensor]) -> None:
        self.steps += 1
        lr, beta1, beta2 = (self.settings[name] for name in self.settings_names)
        step_size = lr / (1 - beta1 ** self.steps)
        correction2_root = (1 - beta2 ** self.steps).sqrt()
        for name, param in self.params.items():
            shape = (-1,) + (1,) * (param.dim() - 1)
            grad = grads[name]
            beta1_, beta2_ = self.per_trial("beta1", param), self.per_trial("beta2", param)
            self.exp_avg[name].lerp_(grad, 1 - beta1_)
            self.exp_avg_sq[name].mul_(beta2_).addcmul_(grad, grad * (1 - beta2_))
            denominator = (self.exp_avg_sq[name].sqrt() / correction2_root.to(param).view(shape)).add_(self.eps)
            param.sub_(self.exp_avg[name] / denominator * step_size.to(param).view(shape))

    @classmethod
    def torch_format(cls, probe: list[Tensor], trial) -> dict:
        return param_group_format(torch.optim.Adam(probe, lr=trial.lr, betas=(trial.beta1, trial.beta2), eps=1e-8))

    def torch_settings(self, trial: int) -> dict:
        return {"lr": float(self.settings["lr"][trial]),
                "betas": (float(self.settings["beta1"][trial]), float(self.settings["beta2"][trial])), "eps": self.eps}

    def load_torch_settings(self, trial: int, group: dict, field: str) -> None:
        if group.get("eps") != self.eps:
            raise ValueError(f"{field}'s eps = {group.get('eps')!r} is not allowed; allowed: {self.eps} (the group's)")
        self.settings["lr"][trial] = group["lr"]
        self.settings["beta1"][trial], self.settings["beta2"][trial] = group["betas"]


class StackedRMSprop(StackedOptimizer):
    """torch.optim.RMSprop as `train.optimizer=rmsprop` configures it (α 0.9, ε 1e-10 outside the root, no momentum,
    not centred), vectorised over K trials with one lr each."""

    kind = "rmsprop"
    state_names = ("square_avg",)
    alpha, eps = 0.9, 1e-10

    @classmethod
    def torch_format(cls, probe: list[Tensor], trial) -> dict:
        return param_group_format(torch.optim.RMSprop(probe, lr=trial.lr, alpha=cls.alpha, eps=cls.eps, momentum=0.0))

    @torch.no_grad()
    def step(self, grads: dict[str, Tensor]) -> None:
        self.steps += 1
        for name, param in self.params.items():
            grad = grads[name]
            average = self.state["square_avg"][name].mul_(self.alpha).addcmul_(grad, grad, value=1 - self.alpha)
            param.sub_(grad / (average.sqrt() + self.eps) * self.per_trial("lr", param))

    def load_torch_settings(self, trial: int, group: dict, field: str) -> None:
        expected = {"alpha": self.alpha, "eps": self.eps, "momentum": 0.0, "centered": False, "weight_decay": 0}
        for key, value in expected.items():
            if group.get(key) != value:
                raise ValueError(f"{field}'s {key} = {group.get(key)!r} is not allowed; allowed: {value} "
                                 "(train.optimizer=rmsprop's)")
        super().load_torch_settings(trial, group, field)
