"""Gradient penalties of WGAN-GP and DRAGAN as coded (docs/protocol.md#losses)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from gan_study.models.checks import choice

SLOPE_EPS = 1e-4  # inside the square root: slope = sqrt(1e-4 + Σ g²)
DRAGAN_NOISES = ("uniform", "gaussian")
GRADIENT_TARGETS = ("probability", "logit")


def gradient_penalty(score: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """E[(slope − 1)²], slope = sqrt(1e-4 + Σ_{c,h,w} g²), g = ∇_x̂ score(x̂) per example.

    The graph is kept (create_graph) so the penalty trains D. As in TF's `tf.gradients`, g is the gradient
    of the summed scores, which is per example unless batch norm couples the examples.
    """
    points = points.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(score(points).sum(), points, create_graph=True)
    slope = torch.sqrt(SLOPE_EPS + gradient.flatten(1).square().sum(dim=1))
    return (slope - 1).square().mean()


def random_interpolates(start: Tensor, end: Tensor) -> Tensor:
    """start + α(end − start) with one α ~ U[0, 1] per example."""
    alpha = torch.rand((start.shape[0],) + (1,) * (start.dim() - 1), device=start.device, dtype=start.dtype)
    return start + alpha * (end - start)


def wgan_gp_penalty(discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    """GP_wgan: the penalty on the logit, at interpolates between the real batch and the D step's fake batch."""
    return gradient_penalty(discriminator, random_interpolates(real, fake))


def dragan_perturbation(real: Tensor, noise: str = "uniform") -> Tensor:
    """x_p = x + 0.5·std(x)·u, std over the whole batch (numpy `.std()`, ddof 0).

    u ~ U[0, 1) elementwise (one-sided: the DRAGAN and compare_gan code) or N(0, 1) ("gaussian": the paper
    text's N(0, c), with the same 0.5·std(x) scale).
    """
    u = torch.rand_like(real) if choice("noise", noise, DRAGAN_NOISES) == "uniform" else torch.randn_like(real)
    return real + 0.5 * real.std(correction=0) * u


def dragan_penalty(discriminator: nn.Module, real: Tensor, noise: str = "uniform",
                   gradient_of: str = "probability") -> Tensor:
    """GP_dragan: the penalty at interpolates between x and its perturbation x_p, on sigmoid(ℓ) by default."""
    if choice("gradient_of", gradient_of, GRADIENT_TARGETS) == "probability":
        score = lambda points: torch.sigmoid(discriminator(points))  # noqa: E731 - one expression
    else:
        score = discriminator
    return gradient_penalty(score, random_interpolates(real, dragan_perturbation(real, noise)))
