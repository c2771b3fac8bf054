"""The default training step (docs/protocol.md#training-loop) and the VAE's joint step, on the real 28×28 networks, batch 8."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from gan_study.models import Optimizers, get_loss

GAN_LOSSES = ["mm_gan", "ns_gan", "wgan", "wgan_gp", "lsgan", "dragan", "began"]
SHAPE, BATCH, Z_DIM = (1, 28, 28), 8, 64


def snapshot(tensors) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in tensors}


def changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> set[str]:
    return {name for name in before if not torch.equal(before[name], after[name])}


def recording(name: str):
    """The registered loss, remembering D's parameters right after its update and the z of the G step."""

    class Recording(get_loss(name)):
        def after_discriminator_step(self, nets):
            super().after_discriminator_step(nets)
            self.discriminator_after_its_step = snapshot(nets.discriminator.named_parameters())

        def generator_loss(self, nets, real, z):
            self.generator_z = z
            return super().generator_loss(nets, real, z)

    return Recording


class CountingPrior:
    def __init__(self):
        self.calls, self.drawn = 0, []

    def __call__(self) -> torch.Tensor:
        self.calls += 1
        self.drawn.append(torch.rand(BATCH, Z_DIM) * 2 - 1)
        return self.drawn[-1]


def setup(loss_class, lr: float = 1e-3, **params):
    torch.manual_seed(0)
    loss = loss_class(**params)
    nets = loss.build_networks(SHAPE, Z_DIM, True, "lrelu")
    optimizers = Optimizers(torch.optim.Adam(nets.generator.parameters(), lr=lr, betas=(0.5, 0.999)),
                            torch.optim.Adam(nets.discriminator.parameters(), lr=lr, betas=(0.5, 0.999)))
    real, z = torch.rand(BATCH, *SHAPE), torch.rand(BATCH, Z_DIM) * 2 - 1
    return loss, nets, optimizers, real, z


def check_logs(logs: dict[str, torch.Tensor]) -> None:
    for key, value in logs.items():
        assert isinstance(value, torch.Tensor) and value.dim() == 0 and not value.requires_grad, key
        assert torch.isfinite(value), key


@pytest.mark.parametrize("name", GAN_LOSSES)
def test_a_discriminator_only_step_moves_d_and_g_s_bn_statistics_but_not_g(name):
    loss, nets, optimizers, real, z = setup(get_loss(name))
    g_parameters = snapshot(nets.generator.named_parameters())
    g_buffers = snapshot(nets.generator.named_buffers())
    d_parameters = snapshot(nets.discriminator.named_parameters())
    prior = CountingPrior()
    logs = loss.train_step(nets, optimizers, real, z, update_generator=False, sample_z=prior)
    assert changed(g_parameters, snapshot(nets.generator.named_parameters())) == set()
    assert "body.1.running_mean" in changed(g_buffers, snapshot(nets.generator.named_buffers()))  # G ran in train mode
    # The Wasserstein losses give the logit's bias exactly zero gradient (−E[ℓ_r] + E[ℓ_f] cancels it).
    frozen_by_loss = {"logit.bias"} if name in ("wgan", "wgan_gp") else set()
    assert changed(d_parameters, snapshot(nets.discriminator.named_parameters())) == set(d_parameters) - frozen_by_loss
    assert prior.calls == 0
    assert "loss_d" in logs and "loss_g" not in logs
    check_logs(logs)


@pytest.mark.parametrize("name", GAN_LOSSES)
def test_a_full_step_updates_g_with_d_frozen_and_the_right_z(name):
    loss, nets, optimizers, real, z = setup(recording(name))
    g_parameters = snapshot(nets.generator.named_parameters())
    prior = CountingPrior()
    logs = loss.train_step(nets, optimizers, real, z, update_generator=True, sample_z=prior)
    assert changed(g_parameters, snapshot(nets.generator.named_parameters())) == set(g_parameters)
    d_now = snapshot(nets.discriminator.named_parameters())
    assert changed(loss.discriminator_after_its_step, d_now) == set()  # the G step left D alone
    if name == "wgan_gp":  # a fresh z for the G step
        assert prior.calls == 1 and loss.generator_z is prior.drawn[0]
    else:
        assert prior.calls == 0 and loss.generator_z is z
    assert {"loss_d", "loss_g"} <= set(logs)
    assert all(parameter.requires_grad for parameter in nets.discriminator.parameters())  # unfrozen again
    check_logs(logs)


@pytest.mark.parametrize("name, calls", [("ns_gan", 2), ("wgan_gp", 3), ("dragan", 3)])
def test_d_sees_real_fake_and_interpolates_as_separate_batches(name, calls):
    loss, nets, optimizers, real, z = setup(get_loss(name))
    sizes = []
    nets.discriminator.register_forward_hook(lambda module, inputs, output: sizes.append(inputs[0].shape[0]))
    loss.discriminator_loss(nets, real, z)
    assert sizes == [BATCH] * calls


def test_wgan_clips_every_d_parameter_including_batch_norm():
    loss, nets, optimizers, real, z = setup(get_loss("wgan"), lr=10.0, clip=0.01)
    loss.train_step(nets, optimizers, real, z, update_generator=False, sample_z=CountingPrior())
    names = [name for name, _ in nets.discriminator.named_parameters()]
    assert "trunk.3.weight" in names and "trunk.3.bias" in names  # BN γ and β are among them
    for name, parameter in nets.discriminator.named_parameters():
        if name == "logit.bias":  # zero gradient under the Wasserstein loss: it stays at 0
            assert parameter.item() == 0.0
        else:  # every other tensor is pushed out by the huge step and clipped back to the bound
            assert parameter.abs().max().item() == pytest.approx(0.01), name


def test_began_step_logs_and_keeps_k():
    loss, nets, optimizers, real, z = setup(get_loss("began"))
    logs = loss.train_step(nets, optimizers, real, z, update_generator=True, sample_z=CountingPrior())
    assert logs["k"].item() == loss.k.item() != 0.0
    assert {"convergence", "reconstruction_real", "reconstruction_fake"} <= set(logs)
    check_logs(logs)


@pytest.mark.parametrize("update_generator", [True, False])
def test_vae_step_is_one_joint_update_whatever_n_disc_says(update_generator):
    loss, nets, optimizers, real, z = setup(get_loss("vae"))
    before = {slot: snapshot(getattr(nets, slot).named_parameters()) for slot in ("generator", "discriminator")}
    prior = CountingPrior()
    logs = loss.train_step(nets, optimizers, real, z, update_generator=update_generator, sample_z=prior)
    for slot in ("generator", "discriminator"):
        assert changed(before[slot], snapshot(getattr(nets, slot).named_parameters())) == set(before[slot])
    assert set(logs) == {"loss_d", "loss_g", "loss_vae", "nll", "kl"}
    assert logs["loss_d"].item() == logs["loss_g"].item() == logs["loss_vae"].item()
    assert logs["loss_vae"].item() == pytest.approx(logs["nll"].item() + logs["kl"].item(), rel=1e-6)
    assert prior.calls == 0
    check_logs(logs)


def test_vae_builds_its_encoder_and_decoder_with_the_bn_switch():
    loss = get_loss("vae")()
    with_bn = loss.build_networks(SHAPE, Z_DIM, True, "lrelu").discriminator
    without_bn = loss.build_networks(SHAPE, Z_DIM, False, "lrelu").discriminator
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert count(with_bn) - count(without_bn) == 2 * (128 + 1024)


@pytest.mark.parametrize("name", GAN_LOSSES + ["vae"])
def test_networks_build_on_the_meta_device_for_config_checks(name):
    with torch.device("meta"):
        nets = get_loss(name)().build_networks((3, 32, 32), Z_DIM, False, "relu")
    assert next(nets.generator.parameters()).device.type == "meta"


def test_checking_a_config_does_not_import_torch_dynamo():
    """torch's meta kernels for random draws import torch._dynamo (~1.5 s of CPU): the shape check builds every
    network there, conditional heads included, and draws nothing, so a driver that only checks configs never pays
    it. torch.optim does import it, so a process that trains pays it once."""
    code = ("import sys, torch\nfrom gan_study.models.losses import ConditionalLoss, get_loss\n"
            "with torch.device('meta'):\n"
            "    for name, head in (('ns_gan', 'acgan'), ('began', 'projection'), ('vae', 'acgan')):\n"
            "        get_loss(name)().build_networks((1, 28, 28), 16, True, 'lrelu')\n"
            "        ConditionalLoss(loss=get_loss(name)(), num_classes=10, head=head).build_networks((1, 28, 28), 16, True, 'lrelu')\n"
            "print('torch._dynamo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
