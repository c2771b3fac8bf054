"""The fixed networks: the parameter counts of docs/protocol.md#architecture, shapes, ranges, layer order and init."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_study.models import AutoEncoderDiscriminator, Discriminator, Generator, VAEDecoder, VAEEncoder, check_image_shape

SHAPES = {"28x28x1": (1, 28, 28), "32x32x3": (3, 32, 32), "64x64x3": (3, 64, 64)}
# docs/protocol.md#architecture: D with BN, D without BN, G; the BEGAN auto-encoder without BN.
D_BN = {"28x28x1": 6_559_169, "32x32x3": 8_527_297, "64x64x3": 33_693_121}
D_NO_BN = {"28x28x1": 6_556_865, "32x32x3": 8_524_993, "64x64x3": 33_690_817}
G = {"28x28x1": 6_642_241, "32x32x3": 8_616_131, "64x64x3": 33_855_683}
BEGAN_AE_NO_BN = {"28x28x1": 1_073_601, "32x32x3": 1_325_379, "64x64x3": 4_495_683}


def count(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def on_meta(build):
    """Build a network without memory or compute (as study/config.py does to check a shape)."""
    with torch.device("meta"):
        return build()


@pytest.mark.parametrize("name", SHAPES)
def test_parameter_counts_equal_the_paper_tables(name):
    shape = SHAPES[name]
    assert count(on_meta(lambda: Discriminator(shape, batchnorm=True))) == D_BN[name]
    assert count(on_meta(lambda: Discriminator(shape, batchnorm=False))) == D_NO_BN[name]
    assert count(on_meta(lambda: Generator(shape, 64, "lrelu"))) == G[name]
    assert count(on_meta(lambda: Generator(shape, 64, "relu"))) == G[name]
    assert count(on_meta(lambda: AutoEncoderDiscriminator(shape, batchnorm=False))) == BEGAN_AE_NO_BN[name]


@pytest.mark.parametrize("name", SHAPES)
def test_derived_counts_of_the_began_ae_with_bn_and_the_vae(name):
    """BN adds γ and β per channel; the VAE decoder is G; its encoder is D with a 2·64 head instead of 1."""
    channels, height, width = SHAPES[name]
    fc_units = 128 * (height // 4) * (width // 4)
    began_bn = on_meta(lambda: AutoEncoderDiscriminator(SHAPES[name], batchnorm=True))
    assert count(began_bn) == BEGAN_AE_NO_BN[name] + 2 * (64 + fc_units + 64)
    assert count(on_meta(lambda: VAEDecoder(SHAPES[name], 64))) == G[name]
    head_difference = (1024 * 128 + 128) - (1024 * 1 + 1)
    assert count(on_meta(lambda: VAEEncoder(SHAPES[name], 64, batchnorm=True))) == D_BN[name] + head_difference
    assert count(on_meta(lambda: VAEEncoder(SHAPES[name], 64, batchnorm=False))) == D_NO_BN[name] + head_difference


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("batchnorm", [True, False])
def test_output_shapes_and_ranges(name, batchnorm):
    torch.manual_seed(0)
    shape = SHAPES[name]
    z = torch.rand(3, 64) * 2 - 1
    images = Generator(shape, 64)(z)
    assert images.shape == (3, *shape)
    assert images.min() >= 0 and images.max() <= 1
    logits = Discriminator(shape, batchnorm)(images)
    assert logits.shape == (3,)
    reconstructions = AutoEncoderDiscriminator(shape, batchnorm)(images)
    assert reconstructions.shape == images.shape
    assert reconstructions.min() >= 0 and reconstructions.max() <= 1
    mean, sigma = VAEEncoder(shape, 64, batchnorm)(images)
    assert mean.shape == sigma.shape == (3, 64) and bool((sigma > 1e-6).all())


def test_discriminator_logits_are_unbounded_not_probabilities():
    torch.manual_seed(0)
    discriminator = Discriminator((1, 28, 28), batchnorm=False)
    with torch.no_grad():
        discriminator.logit.bias.fill_(5.0)
        logits = discriminator(torch.rand(4, 1, 28, 28))
    assert bool((logits > 4.0).all())


def test_vae_decoder_output_is_clipped_away_from_0_and_1():
    decoder = VAEDecoder((1, 28, 28), 64)
    with torch.no_grad():
        decoder.body[-1].bias.fill_(1e3)  # sigmoid saturates at 1 exactly
        high = decoder(torch.zeros(2, 64))
        decoder.body[-1].bias.fill_(-1e3)
        low = decoder(torch.zeros(2, 64))
    assert bool((high == 1 - 1e-8).all()) and bool((low == torch.tensor(1e-8)).all())


def test_vae_sigma_is_the_floor_plus_softplus():
    encoder = VAEEncoder((1, 28, 28), 4, batchnorm=False).eval()
    with torch.no_grad():
        encoder.moments.weight.zero_()
        encoder.moments.bias.copy_(torch.tensor([0.5, -1.0, 2.0, 3.0, -30.0, 0.0, 1.0, 2.0]))
        mean, sigma = encoder(torch.rand(2, 1, 28, 28))
    assert mean[0].tolist() == pytest.approx([0.5, -1.0, 2.0, 3.0])
    expected = [1e-6 + math.log1p(math.exp(v)) for v in (-30.0, 0.0, 1.0, 2.0)]
    assert sigma[0].tolist() == pytest.approx(expected, rel=1e-6)


def layer_types(sequence: nn.Sequential) -> list[type]:
    return [type(layer) for layer in sequence]


def test_layer_order_of_d_no_bn_on_the_first_layer_and_one_switch():
    with_bn = layer_types(Discriminator((1, 28, 28), batchnorm=True).trunk)
    assert with_bn == [nn.Conv2d, nn.LeakyReLU, nn.Conv2d, nn.BatchNorm2d, nn.LeakyReLU, nn.Flatten, nn.Linear,
                       nn.BatchNorm1d, nn.LeakyReLU]
    without_bn = layer_types(Discriminator((1, 28, 28), batchnorm=False).trunk)
    assert without_bn == [t for t in with_bn if t not in (nn.BatchNorm1d, nn.BatchNorm2d)]
    conv = Discriminator((1, 28, 28)).trunk[0]
    assert (conv.kernel_size, conv.stride, conv.padding) == ((4, 4), (2, 2), (1, 1))


@pytest.mark.parametrize("activation_name, kind", [("lrelu", nn.LeakyReLU), ("relu", nn.ReLU)])
def test_generator_layers_always_use_bn_and_the_chosen_activation(activation_name, kind):
    types = layer_types(Generator((1, 28, 28), 64, activation_name).body)
    assert types == [nn.Linear, nn.BatchNorm1d, kind, nn.Linear, nn.BatchNorm1d, kind, nn.Unflatten,
                     nn.ConvTranspose2d, nn.BatchNorm2d, kind, nn.ConvTranspose2d]
    slopes = {layer.negative_slope for layer in Generator((1, 28, 28)).body if isinstance(layer, nn.LeakyReLU)}
    assert slopes == {0.2}


def test_vae_decoder_uses_relu_and_began_ae_has_no_activation_after_its_second_conv():
    assert nn.LeakyReLU not in layer_types(VAEDecoder((1, 28, 28), 64).body)
    encoder = layer_types(AutoEncoderDiscriminator((1, 28, 28), batchnorm=True).encoder)
    assert encoder == [nn.Conv2d, nn.LeakyReLU, nn.Conv2d, nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.LeakyReLU]


def batch_norms(*modules: nn.Module) -> list[nn.Module]:
    return [m for module in modules for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def test_batch_norm_is_tf_s_and_starts_at_gamma_1_beta_0():
    norms = batch_norms(Generator((3, 32, 32)), Discriminator((3, 32, 32)), AutoEncoderDiscriminator((3, 32, 32), True),
                        VAEEncoder((3, 32, 32)))
    assert len(norms) == 3 + 2 + 3 + 2
    for norm in norms:
        assert (norm.eps, norm.momentum) == (1e-3, 1e-3)
        assert bool((norm.weight == 1).all()) and bool((norm.bias == 0).all())
        assert bool((norm.running_mean == 0).all()) and bool((norm.running_var == 1).all())


def test_every_bias_starts_at_zero():
    for network in (Generator((1, 28, 28)), Discriminator((1, 28, 28)), AutoEncoderDiscriminator((1, 28, 28)),
                    VAEEncoder((1, 28, 28))):
        for module in network.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                assert bool((module.bias == 0).all()), module


def truncated_normal_std(sigma: float, cut: float) -> float:
    """Standard deviation of N(0, σ²) truncated to [−cut·σ, cut·σ]."""
    density = math.exp(-cut * cut / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(cut / math.sqrt(2))
    return sigma * math.sqrt(1 - 2 * cut * density / mass)


def check_moments(weight: torch.Tensor, std: float) -> None:
    """Mean and std within 6 standard errors of their sampling distributions (normal approximation)."""
    n = weight.numel()
    values = weight.detach().double()
    assert abs(values.mean().item()) < 6 * std / math.sqrt(n)
    assert abs(values.std().item() - std) < 6 * std / math.sqrt(2 * n)


def test_conv_weights_are_truncated_normal_at_two_sd():
    torch.manual_seed(0)
    weight = Discriminator((1, 28, 28)).trunk[2].weight  # 64·128·16 = 131,072 values
    check_moments(weight, truncated_normal_std(0.02, 2.0))  # 0.01759...
    assert weight.abs().max().item() <= 2 * 0.02
    assert weight.abs().max().item() > 0.039  # the full truncated range is used, not a narrower law


def test_linear_and_deconv_weights_are_plain_normal():
    torch.manual_seed(0)
    generator = Generator((1, 28, 28))
    linear, deconv = generator.body[3].weight, generator.body[7].weight  # 1024·6272 and 128·64·16 values
    for weight in (linear, deconv):
        check_moments(weight, 0.02)
    outside = (linear.abs() > 0.04).double().mean().item()  # P(|N(0,1)| > 2) = 0.0455
    assert abs(outside - 0.0455) < 0.001


@pytest.mark.parametrize("bad", [(1, 30, 28), (3, 32, 30), (1, 28), (0, 28, 28), (1, 28.0, 28), "1x28x28"])
def test_shapes_the_architecture_cannot_take_are_refused_with_what_is_allowed(bad):
    with pytest.raises(ValueError) as error:
        check_image_shape(bad)
    message = str(error.value)
    assert "image_shape" in message and "allowed" in message and "multiples of 4" in message
    with pytest.raises(ValueError, match="image_shape"):
        Generator(bad)  # type: ignore[arg-type]


def test_non_paper_shapes_divisible_by_4_are_accepted():
    assert Generator((2, 16, 24), 8)(torch.rand(2, 8)).shape == (2, 2, 16, 24)
    assert Discriminator((2, 16, 24))(torch.rand(2, 2, 16, 24)).shape == (2,)


def test_bad_activation_and_z_dim_are_refused():
    with pytest.raises(ValueError, match=r"generator_activation = 'tanh' is not allowed: one of \['lrelu', 'relu'\]"):
        Generator((1, 28, 28), 64, "tanh")
    with pytest.raises(ValueError, match=r"z_dim = 0 .*allowed"):
        Generator((1, 28, 28), 0)
