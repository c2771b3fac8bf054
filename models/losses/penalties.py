"""Gradient penalties of WGAN-GP and DRAGAN as coded (docs/protocol.md#losses).

Their random draws are separate functions taking an optional generator, so batched training (study/train/
batched.py) draws them from each trial's stream outside its vmapped step and passes them in; inside
`functional_gradients()` the slope's gradient is taken with torch.func.grad, which torch.func transforms
can nest, instead of torch.autograd.grad (same numbers; the default everywhere else).
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

from gan_study.models.checks import choice

SLOPE_EPS = 1e-4  # inside the square root: slope = sqrt(1e-4 + Σ g²)
DRAGAN_NOISES = ("uniform", "gaussian")
GRADIENT_TARGETS = ("probability", "logit")
_FUNCTIONAL: ContextVar[dict[str, Tensor] | None] = ContextVar("functional_gradients", default=None)


@contextmanager
def functional_gradients(updated: dict[str, Tensor]) -> Iterator[None]:
    """Inside the block gradient penalties differentiate with torch.func.grad (to run inside torch.func.vmap).

    `updated`: the tensors the score's forward updates in place (D's batch-norm statistics), by the names the
    networks read them from this very dict. torch.func.grad lets a function update only its own inputs, so
    they are passed in as inputs, and the dict holds those for the duration of the call.
    """
    token = _FUNCTIONAL.set(updated)
    try:
        yield
    finally:
        _FUNCTIONAL.reset(token)


def _functional_gradient(score: Callable[[Tensor], Tensor], points: Tensor, updated: dict[str, Tensor]) -> Tensor:
    """∇ of the summed scores at `points` by torch.func.grad, with the `updated` tensors as its inputs."""
    def summed(inputs: Tensor, lifted: dict[str, Tensor]) -> Tensor:
        originals = dict(updated)
        updated.update(lifted)
        try:
            return score(inputs).sum()
        finally:
            updated.update(originals)

    return torch.func.grad(summed)(points, dict(updated))


def gradient_penalty(score: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """E[(slope − 1)²], slope = sqrt(1e-4 + Σ_{c,h,w} g²), g = ∇_x̂ score(x̂) per example.

    The graph is kept (create_graph) so the penalty trains D. As in TF's `tf.gradients`, g is the gradient
    of the summed scores, which is per example unless batch norm couples the examples.
    """
    points, updated = points.detach(), _FUNCTIONAL.get()
    if updated is not None:
        gradient = _functional_gradient(score, points, updated)
    else:
        points.requires_grad_(True)
        (gradient,) = torch.autograd.grad(score(points).sum(), points, create_graph=True)
    slope = torch.sqrt(SLOPE_EPS + gradient.flatten(1).square().sum(dim=1))
    return (slope - 1).square().mean()


def interpolation_weights(like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One α ~ U[0, 1] per example of `like`, shaped to broadcast against it."""
    return torch.rand((like.shape[0],) + (1,) * (like.dim() - 1), generator=generator, device=like.device,
                      dtype=like.dtype)


def random_interpolates(start: Tensor, end: Tensor, alpha: Tensor | None = None) -> Tensor:
    """start + α(end − start) with one α ~ U[0, 1] per example (drawn here unless given)."""
    alpha = interpolation_weights(start) if alpha is None else alpha
    return start + alpha * (end - start)


def wgan_gp_penalty(discriminator: nn.Module, real: Tensor, fake: Tensor, alpha: Tensor | None = None) -> Tensor:
    """GP_wgan: the penalty on the logit, at interpolates between the real batch and the D step's fake batch."""
    return gradient_penalty(discriminator, random_interpolates(real, fake, alpha))


def dragan_noise(real: Tensor, noise: str = "uniform", generator: torch.Generator | None = None) -> Tensor:
    """u of the perturbation, elementwise: U[0, 1) ("uniform") or N(0, 1) ("gaussian")."""
    draw = torch.rand if choice("noise", noise, DRAGAN_NOISES) == "uniform" else torch.randn
    return draw(real.shape, generator=generator, device=real.device, dtype=real.dtype)


def dragan_perturbation(real: Tensor, noise: str = "uniform", u: Tensor | None = None) -> Tensor:
    """x_p = x + 0.5·std(x)·u, std over the whole batch (numpy `.std()`, ddof 0).

    u ~ U[0, 1) elementwise (one-sided: the DRAGAN and compare_gan code) or N(0, 1) ("gaussian": the paper
    text's N(0, c), with the same 0.5·std(x) scale); drawn here unless given.
    """
    u = dragan_noise(real, noise) if u is None else u
    return real + 0.5 * real.std(correction=0) * u


def dragan_penalty(discriminator: nn.Module, real: Tensor, noise: str = "uniform",
                   gradient_of: str = "probability", draws: dict[str, Tensor] | None = None) -> Tensor:
    """GP_dragan: the penalty at interpolates between x and its perturbation x_p, on sigmoid(ℓ) by default.

    `draws`: u and α (`dragan_draws`), drawn here, in that order, unless given."""
    if choice("gradient_of", gradient_of, GRADIENT_TARGETS) == "probability":
        score = lambda points: torch.sigmoid(discriminator(points))  # noqa: E731 - one expression
    else:
        score = discriminator
    draws = draws or {}
    perturbed = dragan_perturbation(real, noise, draws.get("u"))
    return gradient_penalty(score, random_interpolates(real, perturbed, draws.get("alpha")))


def dragan_draws(real: Tensor, noise: str = "uniform", generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """The random draws of DRAGAN's penalty in the order it makes them: u, then α."""
    u = dragan_noise(real, noise, generator)
    return {"u": u, "alpha": interpolation_weights(real, generator)}
