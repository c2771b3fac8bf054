"""Minibatches drawn by index from a data set resident on the device, with a state that checkpoints exactly."""
from __future__ import annotations

from typing import Any

import torch


class BatchStream:
    """An endless stream of shuffled indices: one permutation per pass, batches may span two passes.

    The paper's input pipeline repeats the data before shuffling, so batches cross epoch boundaries too;
    every image is seen once per pass. The stream owns its generator, so its state is its own.

    The permutation is drawn on the CPU (the same on every device) and copied to `device` once per pass, so
    a step's indices are a slice of a device tensor: no host-to-device copy, and no wait, per step.
    """

    def __init__(self, size: int, batch_size: int, seed: int, device: torch.device | str = "cpu"):
        if batch_size > size:
            raise ValueError(f"train.batch_size = {batch_size} exceeds the {size} training images")
        self.size, self.batch_size, self.device = size, batch_size, torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)
        self._set_order(torch.randperm(size, generator=self.generator))
        self.position = 0

    def _set_order(self, order: torch.Tensor) -> None:
        self.order = order.cpu()
        self.device_order = self.order.to(self.device)

    def next(self) -> torch.Tensor:
        take = self.device_order[self.position:self.position + self.batch_size]
        self.position += len(take)
        if len(take) < self.batch_size:
            self._set_order(torch.randperm(self.size, generator=self.generator))
            self.position = self.batch_size - len(take)
            take = torch.cat([take, self.device_order[:self.position]])
        return take

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "order": self.order, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"].cpu())
        self._set_order(state["order"])
        self.position = state["position"]
