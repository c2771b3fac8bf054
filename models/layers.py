"""Layer factories with the paper code's initialisation, and the image-shape check every network shares.

Each factory initialises its layer where it is made, so no network can forget the init (compare_gan
issue #54 was an init that silently never ran). Values follow docs/protocol.md#architecture (compare_gan `ops.py`):
conv weights TruncatedNormal(0, 0.02) cut at 2 sd as TF's `truncated_normal_initializer`, deconv and
linear weights Normal(0, 0.02), biases 0, batch norm γ = 1, β = 0 with TF's eps 1e-3 and decay 0.999.
"""
from __future__ import annotations

import torch
from torch import nn

from gan_study.models.checks import check, is_integer, refuse

WEIGHT_STD = 0.02
BN_EPS = 1e-3
BN_MOMENTUM = 1e-3  # PyTorch momentum = 1 − TF decay (0.999)
LRELU_SLOPE = 0.2
ACTIVATIONS = ("lrelu", "relu")
PAPER_SHAPES = ((1, 28, 28), (3, 32, 32), (3, 64, 64))


def check_image_shape(image_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """(C, H, W) as ints, or a ConfigError (a ValueError): the two stride-2 layers need H and W divisible by 4."""
    allowed = (f"(C, H, W) with C >= 1 and H, W positive multiples of 4 "
               f"(the paper's shapes: {', '.join(map(str, PAPER_SHAPES))})")
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else ()
    check(len(shape) == 3 and all(is_integer(n) and n >= 1 for n in shape), "image_shape", image_shape, allowed)
    _, height, width = shape
    check(height % 4 == 0 and width % 4 == 0, "image_shape", shape, f"{allowed}; here H = {height}, W = {width}")
    return shape


def activation(name: str) -> nn.Module:
    """lReLU(0.2) (compare_gan v1, the default) or ReLU (the InfoGAN paper and its appendix table)."""
    if name == "lrelu":
        return nn.LeakyReLU(LRELU_SLOPE)
    if name == "relu":
        return nn.ReLU()
    refuse("generator_activation", name, f"one of {list(ACTIVATIONS)}")


def init_weight(weight: torch.Tensor, truncated: bool = False) -> None:
    """Normal(0, 0.02) in place, cut at 2 sd when `truncated`. On the meta device (config checks build the
    networks there to check shapes) there is nothing to draw, and torch's meta kernels for these draws import
    torch._dynamo: about 1.5 s of CPU in every process that checks a config."""
    if weight.is_meta:
        return
    if truncated:
        nn.init.trunc_normal_(weight, 0.0, WEIGHT_STD, -2 * WEIGHT_STD, 2 * WEIGHT_STD)
    else:
        nn.init.normal_(weight, 0.0, WEIGHT_STD)


def conv(in_channels: int, out_channels: int) -> nn.Conv2d:
    """4×4 stride-2 convolution; padding 1 equals TF 'SAME' on even inputs."""
    layer = nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1)
    init_weight(layer.weight, truncated=True)
    nn.init.zeros_(layer.bias)
    return layer


def deconv(in_channels: int, out_channels: int) -> nn.ConvTranspose2d:
    """4×4 stride-2 transposed convolution that doubles H and W (TF conv2d_transpose, explicit output shape)."""
    layer = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1)
    init_weight(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def linear(in_features: int, out_features: int) -> nn.Linear:
    layer = nn.Linear(in_features, out_features)
    init_weight(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def batch_norm(features: int, spatial: bool) -> nn.Module:
    """TF `batch_norm(decay=0.999, epsilon=1e-3, scale=True)`; γ = 1, β = 0 are PyTorch's defaults."""
    kind = nn.BatchNorm2d if spatial else nn.BatchNorm1d
    return kind(features, eps=BN_EPS, momentum=BN_MOMENTUM)


def optional_batch_norm(features: int, spatial: bool, enabled: bool) -> list[nn.Module]:
    """The layer list to splice into an `nn.Sequential`: the norm when enabled, nothing otherwise."""
    return [batch_norm(features, spatial)] if enabled else []


def upsampling_decoder(in_features: int, image_shape: tuple[int, int, int], batchnorm: bool,
                       activation_name: str) -> nn.Sequential:
    """fc 128·H/4·W/4 → [BN] → act → deconv 64 → [BN] → act → deconv C: the tail of G and of BEGAN's decoder.

    Returns pre-sigmoid values; the caller applies the output non-linearity.
    """
    channels, height, width = image_shape
    return nn.Sequential(
        linear(in_features, 128 * (height // 4) * (width // 4)),
        *optional_batch_norm(128 * (height // 4) * (width // 4), spatial=False, enabled=batchnorm),
        activation(activation_name),
        nn.Unflatten(1, (128, height // 4, width // 4)),
        deconv(128, 64),
        *optional_batch_norm(64, spatial=True, enabled=batchnorm),
        activation(activation_name),
        deconv(64, channels),
    )
