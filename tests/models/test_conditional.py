"""Class-conditional networks and the ConditionalLoss wrapper: counts, shapes, heads, the class loss, label routing."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from gan_study.models import (AutoEncoderDiscriminator, ConditionalAutoEncoderDiscriminator, ConditionalDiscriminator,
                    ConditionalGenerator, ConditionalLoss, ConditionalVAEDecoder, ConditionalVAEEncoder, Discriminator,
                    Generator, Optimizers, VAEDecoder, VAEEncoder, get_loss)
from gan_study.models.conditional import BalancedClassGenerator, conditional_counterpart
from gan_study.models.losses.conditional import class_cross_entropy
from tests.models.test_architectures import BEGAN_AE_NO_BN, D_BN, G, SHAPES, count, on_meta

K, Z_DIM, BATCH = 10, 64, 8
SHAPE = (1, 28, 28)
GAN_LOSSES = ["mm_gan", "ns_gan", "wgan", "wgan_gp", "lsgan", "dragan", "began"]


@pytest.mark.parametrize("name", SHAPES)
def test_parameter_counts_are_the_unconditional_ones_plus_the_label_weights(name):
    shape = SHAPES[name]
    fc_units = 128 * (shape[1] // 4) * (shape[2] // 4)
    assert count(on_meta(lambda: ConditionalGenerator(shape, 64, "lrelu", K))) == G[name] + K * 1024
    assert count(on_meta(lambda: ConditionalVAEDecoder(shape, 64, K))) == G[name] + K * 1024
    assert count(on_meta(lambda: ConditionalDiscriminator(shape, True, K, "acgan"))) == D_BN[name] + 1024 * K + K
    assert count(on_meta(lambda: ConditionalDiscriminator(shape, True, K, "projection"))) == D_BN[name] + 1024 * K
    assert count(on_meta(lambda: ConditionalAutoEncoderDiscriminator(shape, False, K, "acgan"))) \
        == BEGAN_AE_NO_BN[name] + 64 * K + K
    assert count(on_meta(lambda: ConditionalAutoEncoderDiscriminator(shape, False, K, "projection"))) \
        == BEGAN_AE_NO_BN[name] + fc_units * K
    assert count(on_meta(lambda: ConditionalVAEEncoder(shape, 64, True, K))) \
        == count(on_meta(lambda: VAEEncoder(shape, 64, True))) + 2 * 64 * K


def test_shapes_ranges_and_the_label_changes_the_image():
    torch.manual_seed(0)
    generator = ConditionalGenerator(SHAPE, Z_DIM, "lrelu", K).eval()
    z = torch.rand(1, Z_DIM).repeat(K, 1) * 2 - 1
    images = generator(z, torch.arange(K))
    assert images.shape == (K, *SHAPE) and images.min() >= 0 and images.max() <= 1
    assert all(not torch.equal(images[0], images[k]) for k in range(1, K))  # same z, other class, other image
    logits, class_logits = ConditionalDiscriminator(SHAPE, True, K, "acgan")(images, torch.arange(K))
    assert logits.shape == (K,) and class_logits.shape == (K, K)
    logits, class_logits = ConditionalDiscriminator(SHAPE, True, K, "projection")(images, torch.arange(K))
    assert logits.shape == (K,) and class_logits is None
    autoencoder = ConditionalAutoEncoderDiscriminator(SHAPE, False, K, "acgan")
    reconstructions, class_logits = autoencoder(images, torch.arange(K))
    assert reconstructions.shape == images.shape and class_logits.shape == (K, K)
    (mean, sigma), none = ConditionalVAEEncoder(SHAPE, Z_DIM, True, K)(images, torch.arange(K))
    assert mean.shape == sigma.shape == (K, Z_DIM) and none is None and sigma.min() > 0


def test_the_acgan_head_leaves_the_logit_of_the_unconditional_discriminator():
    torch.manual_seed(0)
    conditional = ConditionalDiscriminator(SHAPE, True, K, "acgan")
    plain = Discriminator(SHAPE, True)
    plain.load_state_dict({k: v for k, v in conditional.state_dict().items() if not k.startswith("head.")})
    images = torch.rand(4, *SHAPE)
    assert torch.equal(conditional(images, torch.tensor([0, 3, 3, 9]))[0], plain(images))


def test_projection_logit_is_the_plain_logit_plus_the_embedding_inner_product():
    torch.manual_seed(0)
    discriminator = ConditionalDiscriminator(SHAPE, False, K, "projection")
    images, labels = torch.rand(5, *SHAPE), torch.tensor([0, 1, 7, 7, 9])
    with torch.no_grad():
        features = discriminator.trunk(images).numpy().astype(np.float64)
        weight = discriminator.logit.weight.numpy().astype(np.float64)[0]
        bias = float(discriminator.logit.bias)
        embedding = discriminator.head.embedding.weight.numpy().astype(np.float64)
        logits, _ = discriminator(images, labels)
    expected = [features[i] @ weight + bias + features[i] @ embedding[labels[i]] for i in range(5)]
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_class_cross_entropy_by_hand_on_fixed_logits():
    first = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    second = torch.tensor([[0.0, 0.0, 0.0], [3.0, -2.0, 1.0]])
    labels = torch.tensor([0, 2])

    def by_hand(rows):
        return sum(math.log(sum(math.exp(v) for v in row)) - row[label] for row, label in zip(rows, [0, 2])) / 2

    one = by_hand([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    two = by_hand([[0.0, 0.0, 0.0], [3.0, -2.0, 1.0]])
    assert class_cross_entropy([first], labels).item() == pytest.approx(one, rel=1e-6)
    assert class_cross_entropy([first, second], labels).item() == pytest.approx((one + two) / 2, rel=1e-6)


def test_balanced_class_generator_cycles_the_classes():
    torch.manual_seed(0)
    generator = ConditionalGenerator(SHAPE, Z_DIM, "lrelu", 3).eval()
    z = torch.rand(7, Z_DIM)
    expected = generator(z, torch.tensor([0, 1, 2, 0, 1, 2, 0]))
    assert torch.equal(BalancedClassGenerator(generator, 3)(z), expected)


@pytest.mark.parametrize("name, generator, discriminator", [
    ("ns_gan", ConditionalGenerator, ConditionalDiscriminator),
    ("began", ConditionalGenerator, ConditionalAutoEncoderDiscriminator),
    ("vae", ConditionalVAEDecoder, ConditionalVAEEncoder),
])
def test_the_wrapper_builds_the_conditional_counterparts_with_the_rng_of_building_them_directly(
        name, generator, discriminator):
    """The wrapped loss's networks are probed on the meta device, which draws no random numbers."""
    torch.manual_seed(0)
    nets = ConditionalLoss(loss=get_loss(name)(), num_classes=K).build_networks(SHAPE, Z_DIM, True, "lrelu")
    assert (type(nets.generator), type(nets.discriminator)) == (generator, discriminator)
    plain = on_meta(lambda: get_loss(name)().build_networks(SHAPE, Z_DIM, True, "lrelu"))
    torch.manual_seed(0)
    direct_g = conditional_counterpart(plain.generator, SHAPE, Z_DIM, True, "lrelu", K, "acgan")
    direct_d = conditional_counterpart(plain.discriminator, SHAPE, Z_DIM, True, "lrelu", K, "acgan")
    for built, direct in ((nets.generator, direct_g), (nets.discriminator, direct_d)):
        assert all(torch.equal(a, b) for a, b in zip(built.state_dict().values(), direct.state_dict().values()))


def test_a_network_without_a_conditional_version_is_refused_naming_the_allowed_ones():
    with pytest.raises(TypeError, match="no class-conditional version of .*Linear.*allowed: .*Generator"):
        conditional_counterpart(nn.Linear(2, 2), SHAPE, Z_DIM, True, "lrelu", K, "acgan")


@pytest.mark.parametrize("options, message", [
    ({"num_classes": 0}, "num_classes = 0"),
    ({"num_classes": K, "head": "hinge"}, r"head = 'hinge' is not allowed: one of \['acgan', 'projection'\]"),
    ({"num_classes": K, "aux_weight": -1.0}, "aux_weight = -1.0"),
])
def test_bad_wrapper_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        ConditionalLoss(loss=get_loss("ns_gan")(), **options)


# -- the step ---------------------------------------------------------------------------------------


class LabelSpy:
    """Wraps a conditional network's forward to remember (batch size, labels) of every call."""

    def __init__(self, module: nn.Module):
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []
        forward = module.forward

        def spying(inputs, labels):
            self.calls.append((inputs, labels.clone()))
            return forward(inputs, labels)

        module.forward = spying


def setup(name: str, head: str = "acgan", classify_fakes: bool = False, aux_weight: float = 1.0):
    torch.manual_seed(0)
    loss = ConditionalLoss(loss=get_loss(name)(), num_classes=K, head=head, aux_weight=aux_weight,
                           classify_fakes=classify_fakes)
    nets = loss.build_networks(SHAPE, Z_DIM, True, "lrelu")
    optimizers = Optimizers(torch.optim.Adam(nets.generator.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                            torch.optim.Adam(nets.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999)))
    real, z = torch.rand(BATCH, *SHAPE), torch.rand(BATCH, Z_DIM) * 2 - 1
    real_labels, fake_labels = torch.arange(BATCH) % K, (torch.arange(BATCH) * 3 + 1) % K
    return loss, nets, optimizers, real, z, real_labels, fake_labels


def fresh_z() -> torch.Tensor:
    return torch.rand(BATCH, Z_DIM) * 2 - 1


@pytest.mark.parametrize("classify_fakes", [False, True])
def test_the_d_step_class_loss_is_the_cross_entropy_of_d_s_class_head(classify_fakes):
    loss, nets, optimizers, real, z, real_labels, fake_labels = setup("ns_gan", classify_fakes=classify_fakes)
    g, d = copy.deepcopy(nets.generator), copy.deepcopy(nets.discriminator)  # train mode: batch statistics
    with torch.no_grad():
        expected = nn.functional.cross_entropy(d(real, real_labels)[1], real_labels)
        if classify_fakes:
            expected += nn.functional.cross_entropy(d(g(z, fake_labels), fake_labels)[1], fake_labels)
        logits = d(real, real_labels)[0], d(g(z, fake_labels), fake_labels)[0]
        plain = get_loss("ns_gan")().discriminator_objective(*logits)
    logs = loss.train_step(nets, optimizers, real, z, False, fresh_z, real_labels=real_labels, fake_labels=fake_labels)
    assert logs["class_loss_d"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert logs["loss_d"].item() == pytest.approx(plain.item() + expected.item(), rel=1e-5)
    assert "class_loss_g" not in logs


def test_the_g_step_class_loss_uses_the_updated_d_on_the_fakes_with_their_labels():
    loss, nets, optimizers, real, z, real_labels, fake_labels = setup("lsgan", aux_weight=0.5)
    after_d_step = {}
    inner_after = loss.loss.after_discriminator_step

    def remember(views):
        inner_after(views)
        after_d_step.update(g=copy.deepcopy(nets.generator), d=copy.deepcopy(nets.discriminator))

    loss.loss.after_discriminator_step = remember
    logs = loss.train_step(nets, optimizers, real, z, True, fresh_z, real_labels=real_labels, fake_labels=fake_labels)
    with torch.no_grad():
        logit, class_logits = after_d_step["d"](after_d_step["g"](z, fake_labels), fake_labels)
    expected_class = nn.functional.cross_entropy(class_logits, fake_labels).item()
    assert logs["class_loss_g"].item() == pytest.approx(expected_class, rel=1e-5)
    plain = get_loss("lsgan")().generator_objective(logit).item()
    assert logs["loss_g"].item() == pytest.approx(plain + 0.5 * expected_class, rel=1e-5)


def test_d_sees_real_labels_on_reals_and_penalty_points_and_requested_labels_on_fakes():
    loss, nets, optimizers, real, z, real_labels, fake_labels = setup("wgan_gp", head="projection")
    spy = LabelSpy(nets.discriminator)
    prior_draws = []

    def prior():
        prior_draws.append(fresh_z())
        return prior_draws[-1]

    logs = loss.train_step(nets, optimizers, real, z, True, prior, real_labels=real_labels, fake_labels=fake_labels)
    assert [labels.tolist() for _, labels in spy.calls] == \
        [real_labels.tolist(), fake_labels.tolist(), real_labels.tolist(), fake_labels.tolist()]
    assert spy.calls[0][0] is real  # the real batch; then the fakes, the interpolates, the G step's fakes
    assert len(prior_draws) == 1  # WGAN-GP's fresh z for the G step keeps the step's fake labels
    assert "class_loss_d" not in logs and "class_loss_g" not in logs  # projection: no class head


@pytest.mark.parametrize("name", GAN_LOSSES)
def test_every_gan_loss_takes_a_conditional_step_that_moves_g_and_d_and_logs_the_class_losses(name):
    loss, nets, optimizers, real, z, real_labels, fake_labels = setup(name)
    before = {slot: {k: v.clone() for k, v in getattr(nets, slot).named_parameters()}
              for slot in ("generator", "discriminator")}
    logs = loss.train_step(nets, optimizers, real, z, True, fresh_z, real_labels=real_labels, fake_labels=fake_labels)
    for slot in ("generator", "discriminator"):
        moved = {k for k, v in getattr(nets, slot).named_parameters() if not torch.equal(v, before[slot][k])}
        assert moved, slot
    head = "classes.weight" if name == "began" else "head.classes.weight"
    d_after = dict(nets.discriminator.named_parameters())
    assert not torch.equal(d_after[head], before["discriminator"][head])
    assert {"loss_d", "loss_g", "class_loss_d", "class_loss_g"} <= set(logs)
    assert all(torch.isfinite(value) and not value.requires_grad for value in logs.values())
    assert all(parameter.requires_grad for parameter in nets.discriminator.parameters())


def test_the_conditional_vae_sees_the_real_labels_in_encoder_and_decoder():
    loss, nets, optimizers, real, z, real_labels, fake_labels = setup("vae")
    encoder, decoder = LabelSpy(nets.discriminator), LabelSpy(nets.generator)
    logs = loss.train_step(nets, optimizers, real, z, True, fresh_z, real_labels=real_labels, fake_labels=fake_labels)
    assert [labels.tolist() for _, labels in encoder.calls] == [real_labels.tolist()]
    assert [labels.tolist() for _, labels in decoder.calls] == [real_labels.tolist()]
    assert set(logs) == {"loss_d", "loss_g", "loss_vae", "nll", "kl"}


def test_began_state_lives_in_the_wrapper_s_state_dict():
    loss, nets, optimizers, real, z, real_labels, fake_labels = setup("began")
    loss.train_step(nets, optimizers, real, z, True, fresh_z, real_labels=real_labels, fake_labels=fake_labels)
    assert loss.state_dict()["loss.k"].item() == loss.loss.k.item() != 0.0


def test_unconditional_networks_are_untouched_by_the_conditional_module():
    """Conditioning off builds exactly the study's networks (no head, no label inputs)."""
    nets = get_loss("began")().build_networks(SHAPE, Z_DIM, False, "lrelu")
    assert (type(nets.generator), type(nets.discriminator)) == (Generator, AutoEncoderDiscriminator)
    vae = get_loss("vae")().build_networks(SHAPE, Z_DIM, False, "lrelu")
    assert (type(vae.generator), type(vae.discriminator)) == (VAEDecoder, VAEEncoder)
