"""Each loss's D and G values against closed forms computed here with numpy, through the loss classes' own paths."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gan_study.models import Networks, get_loss
from gan_study.models.losses.functional import bernoulli_nll, gaussian_kl, reconstruction_error
from tests.models.conftest import ReshapeGenerator, as_images, as_latents, logit_networks

REAL = np.array([2.0, -0.5, 0.3, 4.0, -3.0])
FAKE = np.array([-1.5, 0.7, -4.0, 0.0, 1.2])


def softplus(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(x))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# BCE(ℓ, 1) = mean log(1 + e^−ℓ); BCE(ℓ, 0) = mean log(1 + e^ℓ).
BCE_D = softplus(-REAL).mean() + softplus(FAKE).mean()
EXPECTED = {
    # name, params: (L_D, L_G)
    ("mm_gan", ()): (BCE_D, np.mean(np.log(1 - sigmoid(FAKE)))),
    ("ns_gan", ()): (BCE_D, -np.mean(np.log(sigmoid(FAKE)))),
    ("wgan", ()): (-REAL.mean() + FAKE.mean(), -FAKE.mean()),
    ("lsgan", (("on", "sigmoid"),)): (0.5 * (np.mean((sigmoid(REAL) - 1) ** 2) + np.mean(sigmoid(FAKE) ** 2)),
                                      0.5 * np.mean((sigmoid(FAKE) - 1) ** 2)),
    ("lsgan", (("on", "logits"),)): (0.5 * (np.mean((REAL - 1) ** 2) + np.mean(FAKE ** 2)),
                                     0.5 * np.mean((FAKE - 1) ** 2)),
}


@pytest.mark.parametrize("name, params", list(EXPECTED))
def test_discriminator_and_generator_losses_on_fixed_logits(name, params):
    loss = get_loss(name)(**dict(params))
    nets = logit_networks()
    d_value, _ = loss.discriminator_loss(nets, as_images(REAL), as_latents(FAKE))
    g_value, _ = loss.generator_loss(nets, as_images(REAL), as_latents(FAKE))
    expected_d, expected_g = EXPECTED[(name, params)]
    assert d_value.item() == pytest.approx(expected_d, rel=1e-12)
    assert g_value.item() == pytest.approx(expected_g, rel=1e-12)


def test_wgan_gp_and_dragan_without_penalty_reduce_to_wgan_and_ns_gan():
    nets = logit_networks()
    real, z = as_images(REAL), as_latents(FAKE)
    for name, base in (("wgan_gp", "wgan"), ("dragan", "ns_gan")):
        loss = get_loss(name)(penalty_weight=0.0)
        d_value, logs = loss.discriminator_loss(nets, real, z)
        assert d_value.item() == pytest.approx(EXPECTED[(base, ())][0], rel=1e-12)
        assert "gradient_penalty" in logs
        assert loss.generator_loss(nets, real, z)[0].item() == pytest.approx(EXPECTED[(base, ())][1], rel=1e-12)


def test_penalty_weight_scales_the_logged_penalty_into_the_d_loss():
    torch.manual_seed(0)
    nets = Networks(ReshapeGenerator(), nn.Sequential(nn.Flatten(), nn.Linear(3, 1, dtype=torch.float64),
                                                      nn.Flatten(0)))
    real, z = torch.rand(4, 1, 1, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64)
    for name, base in (("wgan_gp", "wgan"), ("dragan", "ns_gan")):
        torch.manual_seed(1)
        loss, logs = get_loss(name)(penalty_weight=7.0).discriminator_loss(nets, real, z)
        unpenalised, _ = get_loss(base)().discriminator_loss(nets, real, z)
        assert logs["gradient_penalty"].item() > 0
        assert loss.item() == pytest.approx(unpenalised.item() + 7.0 * logs["gradient_penalty"].item(), rel=1e-12)


def test_minimax_generator_loss_saturates_where_non_saturating_does_not():
    """At a confident D (ℓ_f = −20) the MM gradient vanishes; the NS gradient is ≈ −1/N per logit."""
    fake = torch.full((4,), -20.0, dtype=torch.float64, requires_grad=True)
    (mm,) = torch.autograd.grad(get_loss("mm_gan")().generator_objective(fake), fake)
    (ns,) = torch.autograd.grad(get_loss("ns_gan")().generator_objective(fake), fake)
    assert mm.abs().max().item() < 1e-8
    assert ns.tolist() == pytest.approx([-0.25] * 4, rel=1e-8)


class SquareAutoEncoder(nn.Module):
    """AE(v) = v²: L(v) = mean |v² − v| in closed form."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.square()


def l1_reconstruction(values: np.ndarray) -> float:
    return float(np.mean(np.abs(values ** 2 - values)))


def began_setup():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 2, size=(3, 1, 1, 4))
    z = rng.uniform(-1, 2, size=(3, 4))
    nets = Networks(ReshapeGenerator(), SquareAutoEncoder())
    return nets, real, z, torch.tensor(real), torch.tensor(z)


def test_began_reconstruction_error_is_one_l1_mean():
    images = torch.tensor([[[[0.5, 2.0]]], [[[-1.0, 0.0]]]], dtype=torch.float64)
    # |0.25 − 0.5|, |4 − 2|, |1 + 1|, |0 − 0| → mean 4.25 / 4
    assert reconstruction_error(SquareAutoEncoder(), images).item() == pytest.approx(4.25 / 4)


def test_began_d_and_g_losses_use_the_current_k():
    nets, real, z, real_t, z_t = began_setup()
    loss = get_loss("began")()
    loss.k.fill_(0.3)
    d_value, logs = loss.discriminator_loss(nets, real_t, z_t)
    fake = z.reshape(3, 1, 1, 4)
    assert d_value.item() == pytest.approx(l1_reconstruction(real) - 0.3 * l1_reconstruction(fake), rel=1e-6)
    assert logs["reconstruction_real"].item() == pytest.approx(l1_reconstruction(real))
    assert loss.generator_loss(nets, real_t, z_t)[0].item() == pytest.approx(l1_reconstruction(fake))


def test_began_k_update_and_convergence_measure_by_hand():
    nets, real, z, real_t, z_t = began_setup()
    loss = get_loss("began")(k_lr=0.1, gamma=0.5)
    assert loss.k.item() == 0.0
    lx, lf = l1_reconstruction(real), l1_reconstruction(z.reshape(3, 1, 1, 4))
    k = 0.0
    for _ in range(3):
        logs = loss.after_train_step(nets, real_t, z_t)
        k = k + 0.1 * (0.5 * lx - lf)
        assert logs["k"].item() == pytest.approx(k, rel=1e-6)
        assert logs["convergence"].item() == pytest.approx(lx + abs(0.5 * lx - lf), rel=1e-6)
    assert k < 0  # this setup drives k negative: unclipped, as coded
    assert loss.state_dict()["k"].item() == pytest.approx(k, rel=1e-6)


def test_began_clip_k_keeps_k_in_the_unit_interval():
    nets, real, z, real_t, z_t = began_setup()
    clipped = get_loss("began")(k_lr=0.1, gamma=0.5, clip_k=True)
    assert clipped.after_train_step(nets, real_t, z_t)["k"].item() == 0.0  # would be negative
    rising = get_loss("began")(k_lr=100.0, gamma=1.0, clip_k=True)
    assert l1_reconstruction(real) > l1_reconstruction(z)  # so γ = 1 makes the k step positive
    assert rising.after_train_step(nets, real_t, z_t)["k"].item() == 1.0  # would be ≫ 1


def test_vae_kl_against_its_closed_form():
    rng = np.random.default_rng(0)
    mean, sigma = rng.normal(size=(5, 3)), rng.uniform(0.05, 2.0, size=(5, 3))
    expected = np.mean(0.5 * np.sum(mean ** 2 + sigma ** 2 - np.log(1e-8 + sigma ** 2) - 1, axis=1))
    assert gaussian_kl(torch.tensor(mean), torch.tensor(sigma)).item() == pytest.approx(expected, rel=1e-12)
    # The standard normal posterior costs nothing (up to the 1e-8 inside the log).
    assert gaussian_kl(torch.zeros(2, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64)).item() == \
        pytest.approx(-1.5 * np.log1p(1e-8), abs=1e-15)


def test_vae_nll_sums_pixels_and_averages_batch_and_channels():
    rng = np.random.default_rng(1)
    images, recon = rng.uniform(size=(2, 3, 4, 5)), rng.uniform(0.01, 0.99, size=(2, 3, 4, 5))
    total = 0.0
    for n in range(2):
        for c in range(3):
            for h in range(4):
                for w in range(5):
                    x, y = images[n, c, h, w], recon[n, c, h, w]
                    total -= x * np.log(y) + (1 - x) * np.log(1 - y)
    expected = total / (2 * 3)  # the quirk: channels averaged, not summed
    assert bernoulli_nll(torch.tensor(images), torch.tensor(recon)).item() == pytest.approx(expected, rel=1e-12)


def test_vae_objective_is_nll_plus_kl_of_its_own_networks():
    torch.manual_seed(0)
    loss = get_loss("vae")()
    nets = loss.build_networks((1, 28, 28), 8, True, "lrelu")
    real = torch.rand(4, 1, 28, 28)
    torch.manual_seed(3)
    value, logs = loss.objective(nets, real)
    torch.manual_seed(3)
    mean, sigma = nets.discriminator(real)
    reconstructions = nets.generator(mean + sigma * torch.randn_like(mean))
    assert logs["nll"].item() == pytest.approx(bernoulli_nll(real, reconstructions).item(), rel=1e-6)
    assert logs["kl"].item() == pytest.approx(gaussian_kl(mean, sigma).item(), rel=1e-6)
    assert value.item() == pytest.approx(logs["nll"].item() + logs["kl"].item(), rel=1e-6)
