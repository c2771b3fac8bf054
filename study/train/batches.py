"""Minibatches drawn by index from an in-memory data set, with a state that checkpoints exactly."""
from __future__ import annotations

from typing import Any

import torch


class BatchStream:
    """An endless stream of shuffled indices: one permutation per pass, batches may span two passes.

    The paper's input pipeline repeats the data before shuffling, so batches cross epoch boundaries too;
    every image is seen once per pass. The stream owns its generator, so its state is its own.
    """

    def __init__(self, size: int, batch_size: int, seed: int):
        if batch_size > size:
            raise ValueError(f"train.batch_size = {batch_size} exceeds the {size} training images")
        self.size, self.batch_size = size, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(size, generator=self.generator)
        self.position = 0

    def next(self) -> torch.Tensor:
        take = self.order[self.position:self.position + self.batch_size]
        self.position += len(take)
        if len(take) < self.batch_size:
            self.order = torch.randperm(self.size, generator=self.generator)
            self.position = self.batch_size - len(take)
            take = torch.cat([take, self.order[:self.position]])
        return take

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "order": self.order, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.order, self.position = state["order"], state["position"]
