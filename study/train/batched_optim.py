"""Each trial of a batched group keeps the torch optimiser its own run has, over its slices of the stacked parameters.

The stacked parameters (K, ...) are updated through K torch optimisers, trial k's over the views `param[k]`:
the very algorithm, options (fused or not) and state_dict format of the trial's run, one fused pass per trial
where torch fuses it, and a trial whose step is skipped (frozen, or G not due) is simply not stepped. So a
trial's optimiser state is its run's `optimizer.state_dict()`, and loads with `load_state_dict`.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import Tensor

STATE_NAMES = {torch.optim.Adam: ("exp_avg", "exp_avg_sq"), torch.optim.RMSprop: ("square_avg",)}
"""What each optimiser keeps per parameter besides its step count (to refuse another optimiser's state)."""

MakeOptimizer = Callable[[int, list[Tensor]], torch.optim.Optimizer]
"""make(trial, its parameter slices): the torch optimiser of that trial's run."""


class TrialOptimizers:
    """One torch optimiser per trial over its slices of `params` (stacked, (K, ...) each)."""

    def __init__(self, params: dict[str, Tensor], make: MakeOptimizer):
        self.params = params
        trials = next(iter(params.values())).shape[0]
        self.slices = [[value.detach()[trial] for value in params.values()] for trial in range(trials)]
        self.optimizers = [make(trial, slices) for trial, slices in enumerate(self.slices)]

    @torch.no_grad()
    def step(self, grads: dict[str, Tensor], trials: list[int]) -> None:
        """Step the optimisers of `trials` with their slices of the stacked gradients."""
        for trial in trials:
            for view, grad in zip(self.slices[trial], grads.values()):
                view.grad = grad[trial]
            self.optimizers[trial].step()
            for view in self.slices[trial]:
                view.grad = None

    def trial_state(self, trial: int) -> dict:
        """Trial `trial`'s optimiser state_dict, copied (the group goes on changing its own)."""
        return copy.deepcopy(self.optimizers[trial].state_dict())

    def load_trial_state(self, trial: int, state_dict: dict, field: str) -> None:
        """Load a state_dict of this trial's kind of optimiser over these parameters (its options come with it)."""
        optimizer = self.optimizers[trial]
        allowed = STATE_NAMES.get(type(optimizer), ())
        kinds = {key for entry in state_dict["state"].values() for key in entry} - {"step"}
        if kinds - set(allowed):
            raise ValueError(f"{field} holds {sorted(kinds)}, not {type(optimizer).__name__}'s state; allowed: "
                             f"{', '.join(allowed)} (the group's train.optimizer)")
        optimizer.load_state_dict(state_dict)

    def settings(self, trial: int) -> dict[str, float]:
        """Trial `trial`'s lr (and Adam's β₁, β₂), as TrialSettings names them."""
        (group,) = self.optimizers[trial].param_groups
        betas = dict(zip(("beta1", "beta2"), group["betas"])) if "betas" in group else {}
        return {"lr": float(group["lr"]), **{name: float(value) for name, value in betas.items()}}
