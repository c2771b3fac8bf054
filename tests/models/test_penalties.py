"""Gradient penalties on a linear D, whose input gradient is known: ∇ℓ = w, ∇sigmoid(ℓ) = σ'(ℓ)·w."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from gan_study.models.losses.penalties import dragan_penalty, gradient_penalty, wgan_gp_penalty
from tests.models.conftest import LinearDiscriminator

SHAPE = (6, 2, 3, 3)


def setup(seed: int = 0):
    torch.manual_seed(seed)
    weight = torch.randn(SHAPE[1:], dtype=torch.float64) * 0.3
    real = torch.rand(SHAPE, dtype=torch.float64)
    fake = torch.rand(SHAPE, dtype=torch.float64)
    return LinearDiscriminator(weight, bias=0.2), real, fake


def test_penalty_of_a_linear_logit_is_exact_at_any_points():
    discriminator, real, _ = setup()
    norm_squared = discriminator.weight.detach().square().sum().item()
    expected = (np.sqrt(1e-4 + norm_squared) - 1) ** 2
    assert gradient_penalty(discriminator, real * 7 - 3).item() == pytest.approx(expected, rel=1e-12)


def test_wgan_gp_penalty_value_its_gradient_and_the_interpolates():
    discriminator, real, fake = setup()
    penalty = wgan_gp_penalty(discriminator, real, fake)
    w = discriminator.weight.detach().numpy()
    slope = np.sqrt(1e-4 + np.sum(w ** 2))
    assert penalty.item() == pytest.approx((slope - 1) ** 2, rel=1e-12)
    # create_graph: the penalty trains D. d/dw (slope − 1)² = 2(slope − 1)·w/slope.
    (gradient,) = torch.autograd.grad(penalty, discriminator.weight)
    assert gradient.numpy() == pytest.approx(2 * (slope - 1) * w / slope, rel=1e-10)
    # x̂ = x + α(G(z) − x): one α ∈ [0, 1] per example.
    alphas = []
    for x, f, p in zip(real.numpy(), fake.numpy(), discriminator.seen[-1].numpy()):
        direction = (f - x).ravel()
        alpha = float(np.dot(p.ravel() - x.ravel(), direction) / np.dot(direction, direction))
        assert 0 <= alpha <= 1
        assert p == pytest.approx(x + alpha * (f - x), abs=1e-12)
        alphas.append(alpha)
    assert len(set(np.round(alphas, 9))) == SHAPE[0]  # drawn per example, not one for the batch


def dragan_expected(discriminator: LinearDiscriminator, gradient_of: str) -> float:
    """The penalty at the points D actually saw, computed with numpy."""
    w = discriminator.weight.detach().numpy().ravel()
    b = discriminator.bias.item()
    points = discriminator.seen[-1].numpy().reshape(SHAPE[0], -1)
    logits = points @ w + b
    if gradient_of == "probability":
        s = 1 / (1 + np.exp(-logits))
        derivative = s * (1 - s)
    else:
        derivative = np.ones_like(logits)
    slopes = np.sqrt(1e-4 + derivative ** 2 * np.sum(w ** 2))
    return float(np.mean((slopes - 1) ** 2))


@pytest.mark.parametrize("gradient_of", ["probability", "logit"])
def test_dragan_penalty_against_numpy_at_the_points_d_saw(gradient_of):
    discriminator, real, _ = setup(1)
    penalty = dragan_penalty(discriminator, real, noise="uniform", gradient_of=gradient_of)
    assert penalty.item() == pytest.approx(dragan_expected(discriminator, gradient_of), rel=1e-10)


def test_dragan_probability_and_logit_penalties_differ():
    discriminator, real, _ = setup(1)
    torch.manual_seed(5)
    probability = dragan_penalty(discriminator, real, gradient_of="probability").item()
    torch.manual_seed(5)
    logit = dragan_penalty(discriminator, real, gradient_of="logit").item()
    assert probability != pytest.approx(logit, rel=1e-3)


def test_dragan_uniform_noise_is_one_sided_and_scaled_by_half_the_batch_std():
    discriminator, real, _ = setup(2)
    dragan_penalty(discriminator, real, noise="uniform")
    shift = discriminator.seen[-1].numpy() - real.numpy()
    scale = 0.5 * real.numpy().std()  # numpy's std: ddof 0, over the whole batch
    assert shift.min() >= 0 and shift.max() < scale
    assert shift.max() > 0.5 * scale  # α·u reaches well into [0, scale)


def test_dragan_gaussian_noise_is_two_sided():
    discriminator, real, _ = setup(3)
    dragan_penalty(discriminator, real, noise="gaussian")
    shift = discriminator.seen[-1].numpy() - real.numpy()
    assert shift.min() < 0 < shift.max()
    assert dragan_penalty(discriminator, real, noise="gaussian").item() == \
        pytest.approx(dragan_expected(discriminator, "probability"), rel=1e-10)


def test_bad_penalty_options_are_refused():
    discriminator, real, _ = setup()
    with pytest.raises(ValueError, match=re.escape("noise = 'normal' is not allowed: one of ['uniform', 'gaussian']")):
        dragan_penalty(discriminator, real, noise="normal")
    with pytest.raises(ValueError, match=re.escape("gradient_of = 'prob' is not allowed: one of ['probability', 'logit']")):
        dragan_penalty(discriminator, real, gradient_of="prob")
