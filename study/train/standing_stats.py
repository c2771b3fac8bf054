"""Batch-norm statistics for evaluation: the running averages as trained (the paper), or re-estimated ("standing
statistics", as BigGAN) from fresh prior draws, for one evaluation only.

With TF's decay 0.999 (models/layers.py) the running averages of a short run are still mostly their initial
values (after 500 steps 1 − 0.999^500 ≈ 39 % of the way), so an eval-mode generator draws flat grey images
although its training-mode samples are fine. `eval.bn_stats=recompute` resets each batch-norm layer and averages
the batch statistics of `eval.bn_stats_batches` generator passes (a cumulative average, PyTorch's momentum=None);
every buffer is put back afterwards, bit for bit, so training, checkpoints and exact resume are untouched.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch.nn.modules.batchnorm import _BatchNorm

BN_STATS = ("running", "recompute")
"""running: the moving averages as trained (the paper's protocol); recompute: standing statistics."""


def batchnorm_layers(module: torch.nn.Module) -> list[_BatchNorm]:
    return [layer for layer in module.modules() if isinstance(layer, _BatchNorm) and layer.track_running_stats]


@torch.no_grad()
def recompute_batchnorm(module: torch.nn.Module, forward: Callable[[], object], batches: int) -> None:
    """Replace the running mean/variance of every batch-norm layer of `module` by the average, over `batches` calls
    of `forward` (one generator pass on fresh draws each) in training mode, of the batch mean and unbiased variance."""
    layers = batchnorm_layers(module)
    momenta = [layer.momentum for layer in layers]
    was_training = module.training
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average: running = mean of the batch statistics seen so far
    module.train()
    try:
        for _ in range(batches):
            forward()
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        module.train(was_training)


@contextmanager
def standing_statistics(module: torch.nn.Module, forward: Callable[[], object], batches: int) -> Iterator[None]:
    """Inside the block `module` evaluates with recomputed batch-norm statistics; after it every buffer of
    `module` (running statistics, batch counts, anything else a training-mode pass may update) is as before."""
    saved = {name: buffer.clone() for name, buffer in module.named_buffers()}
    try:
        recompute_batchnorm(module, forward, batches)
        yield
    finally:
        with torch.no_grad():
            buffers = dict(module.named_buffers())
            for name, value in saved.items():
                buffers[name].copy_(value)


def prior_forward(generator: Callable[..., torch.Tensor], sample_z: Callable[..., torch.Tensor], batch_size: int,
                  num_classes: int | None, eval_seed: int, device: torch.device) -> Callable[[], torch.Tensor]:
    """One generator pass per call on fresh draws of the prior (and uniform labels for a conditional generator),
    from a generator of their own seeded with eval.seed + 1 (apart from the evaluation latents, seeded with eval.seed):
    the same draws at every evaluation, and the training stream's random state is never touched."""
    rng = torch.Generator().manual_seed((eval_seed + 1) % 2**63)

    def forward() -> torch.Tensor:
        z = sample_z(batch_size, rng)
        if num_classes is None:
            return generator(z)
        return generator(z, torch.randint(num_classes, (batch_size,), generator=rng).to(device))

    return forward
