"""How closely a generator can reproduce given images: min over latents z of ‖x − G(z)‖² (sum over pixels).

Recall on Triangles (docs/protocol.md#precision-and-recall) inverts G for each real test image. The search is non-convex,
so it starts from several latents per image: the `restarts` nearest (in image space) of a pool of
`pool` latents drawn from the prior, or — with pool = 0 — plain random draws from the prior. Adam then
descends on z; after every step z is projected back into the prior's support (a box [−b, b] for the
uniform prior, nothing for the normal prior). The distance reported is the smallest ‖x − G(z)‖² seen
at any latent visited (each is a real z in the support, evaluated exactly), so it can only over-estimate
the true minimum. G must be in eval mode: each G(z) then depends on z alone, not on its batch.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable

import torch

from gan_study.study.metrics.descent import set_cosine_lr, squared_distance

log = logging.getLogger("gan_study.metrics")


@dataclass(frozen=True)
class InversionSchedule:
    steps: int
    lr: float
    """Adam's step size on z; decays with a cosine to lr · lr_floor."""
    restarts: int
    pool: int
    """Prior draws to pick each image's starting latents from (nearest G(z)); 0: random restarts."""
    lr_floor: float = 0.1


def invert_generator(generator: torch.nn.Module, targets: torch.Tensor,
                     sample_z: Callable[[int, torch.Generator], torch.Tensor], z_bound: float | None,
                     schedule: InversionSchedule, seed: int, device: torch.device,
                     batch_size: int = 2048) -> torch.Tensor:
    """(N, C, H, W) targets in [0, 1] → (N,) float64: min over visited z of Σ_pixels (x − G(z))².

    `batch_size` bounds the latents optimised at once (images × restarts); results do not depend on it.
    """
    rng = torch.Generator().manual_seed(seed)
    flat_targets = targets.flatten(1).to(device=device, dtype=torch.float32)
    starts, start_distances = _starting_latents(generator, flat_targets, sample_z, schedule, rng, device)
    per_batch = max(1, batch_size // schedule.restarts)
    batches = math.ceil(len(flat_targets) / per_batch)
    progress = _Progress(batches * schedule.steps, f"recall inversion of {len(flat_targets)} images")
    distances = []
    for number, begin in enumerate(range(0, len(flat_targets), per_batch)):
        chunk = flat_targets[begin:begin + per_batch]
        z = starts[begin:begin + per_batch].reshape(len(chunk) * schedule.restarts, -1)
        best = _descend(generator, chunk.repeat_interleave(schedule.restarts, dim=0), z, z_bound, schedule,
                        lambda step, done=number * schedule.steps: progress.at(done + step))
        best = torch.minimum(best.reshape(len(chunk), schedule.restarts),
                             start_distances[begin:begin + per_batch]).amin(dim=1)
        distances.append(best.cpu())
    return torch.cat(distances)


@torch.no_grad()
def _starting_latents(generator, targets, sample_z, schedule, rng, device):
    """(N, R, d) starting latents and their (N, R) distances: nearest of a prior pool, or random draws."""
    n, restarts = len(targets), schedule.restarts
    if schedule.pool == 0:
        z = sample_z(n * restarts, rng).to(device)
        images = _generate(generator, z)
        distances = squared_distance(images, targets.repeat_interleave(restarts, dim=0))
        return z.reshape(n, restarts, -1), distances.reshape(n, restarts)
    pool = sample_z(schedule.pool, rng).to(device)
    images = _generate(generator, pool)
    pool_norms = images.square().sum(dim=1)
    target_norms = targets.square().sum(dim=1, keepdim=True)
    chosen = []
    for begin in range(0, n, 1024):
        rows = targets[begin:begin + 1024]
        distances = (target_norms[begin:begin + 1024] + pool_norms[None, :] - 2.0 * rows @ images.T)
        distances = torch.nan_to_num(distances, nan=math.inf)
        chosen.append(distances.topk(restarts, dim=1, largest=False).indices)
    index = torch.cat(chosen)
    # The matmul form is only for ranking; report the exact distance of each chosen start.
    exact = squared_distance(images[index.flatten()], targets.repeat_interleave(restarts, dim=0))
    return pool[index], exact.reshape(n, restarts)


def _descend(generator, targets, z, z_bound, schedule, on_step: Callable[[int], None]) -> torch.Tensor:
    """Adam on z; returns, per latent row, the smallest distance seen at any visited latent."""
    z = z.detach().clone().requires_grad_(True)
    optimiser = torch.optim.Adam([z], lr=schedule.lr)
    best = torch.full((len(z),), math.inf, dtype=torch.float64, device=z.device)
    for step in range(schedule.steps + 1):
        with torch.enable_grad():
            distances = (generator(z).flatten(1).float() - targets).square().sum(dim=1)
        best = torch.minimum(best, torch.nan_to_num(distances.detach().double(), nan=math.inf))
        if step == schedule.steps:
            break  # the last latent has been scored; no further update
        on_step(step)
        set_cosine_lr(optimiser, schedule.lr, schedule.lr_floor, step, schedule.steps)
        (gradient,) = torch.autograd.grad(distances.sum(), z)
        z.grad = gradient
        optimiser.step()
        if z_bound is not None:
            with torch.no_grad():
                z.clamp_(-z_bound, z_bound)
    return best


class _Progress:
    """A log line every ~10 s: descent steps done, rate and ETA."""

    def __init__(self, total: int, what: str):
        self.total, self.what = total, what
        self.started = self.last = time.perf_counter()

    def at(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last < 10 or done == 0:
            return
        self.last = now
        rate = done / (now - self.started)
        log.info("%s: descent step %d/%d (%.1f steps/s, ETA %.0f s)", self.what, done, self.total, rate,
                 (self.total - done) / rate)


def _generate(generator, z, batch_size: int = 2048) -> torch.Tensor:
    return torch.cat([generator(chunk).flatten(1).float() for chunk in z.split(batch_size)])
