"""The loss formulas of docs/protocol.md#losses as pure functions of logits, reconstructions and moments.

Kept apart from the loss classes so each formula is tested against its closed form on given numbers.
"E" below is the mean over the batch; BCE(ℓ, t) is the sigmoid cross-entropy on logits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LOG_VARIANCE_EPS = 1e-8


def fake_batch(nets, z: Tensor) -> Tensor:
    """G(z) for a D update: no graph through G, but G stays in its mode, so train-mode BN statistics still move."""
    with torch.no_grad():
        return nets.generator(z)


def discriminator_logits(nets, real: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(ℓ(x), ℓ(G(z)), G(z) without graph). D is called separately on each batch: batch-norm statistics per call."""
    fake = fake_batch(nets, z)
    return nets.discriminator(real), nets.discriminator(fake), fake


def generator_logits(nets, z: Tensor) -> Tensor:
    return nets.discriminator(nets.generator(z))


def cross_entropy_discriminator(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """BCE(ℓ_r, 1) + BCE(ℓ_f, 0): the D loss of MM GAN, NS GAN and DRAGAN."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def minimax_generator(fake_logits: Tensor) -> Tensor:
    """−BCE(ℓ_f, 0) = E[log(1 − sigmoid(ℓ_f))]: the saturating G loss of the minimax game."""
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def non_saturating_generator(fake_logits: Tensor) -> Tensor:
    """BCE(ℓ_f, 1) = −E[log sigmoid(ℓ_f)]."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def wasserstein_discriminator(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """−E[ℓ_r] + E[ℓ_f]."""
    return fake_logits.mean() - real_logits.mean()


def wasserstein_generator(fake_logits: Tensor) -> Tensor:
    """−E[ℓ_f]."""
    return -fake_logits.mean()


def least_squares_discriminator(real_outputs: Tensor, fake_outputs: Tensor) -> Tensor:
    """½(E[(d_r − 1)²] + E[d_f²]) on whatever D outputs the caller passes (sigmoids in the paper's code)."""
    return 0.5 * ((real_outputs - 1).square().mean() + fake_outputs.square().mean())


def least_squares_generator(fake_outputs: Tensor) -> Tensor:
    """½E[(d_f − 1)²]."""
    return 0.5 * (fake_outputs - 1).square().mean()


def reconstruction_error(autoencoder: nn.Module, images: Tensor) -> Tensor:
    """BEGAN's L(v) = mean |AE(v) − v| over batch, channels and pixels (one L1 mean, not per-sample sums)."""
    return (autoencoder(images) - images).abs().mean()


def bernoulli_nll(images: Tensor, reconstructions: Tensor) -> Tensor:
    """−Σ_{h,w}[x log x̃ + (1 − x) log(1 − x̃)], averaged over batch *and channel* (the code sums axes 1, 2 of NHWC)."""
    log_likelihood = images * torch.log(reconstructions) + (1 - images) * torch.log(1 - reconstructions)
    return -log_likelihood.sum(dim=(2, 3)).mean()


def gaussian_kl(mean: Tensor, sigma: Tensor) -> Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) = E_batch ½ Σ_j (μ² + σ² − log(1e-8 + σ²) − 1), with the code's 1e-8 inside the log."""
    variance = sigma.square()
    return 0.5 * (mean.square() + variance - torch.log(LOG_VARIANCE_EPS + variance) - 1).sum(dim=1).mean()
