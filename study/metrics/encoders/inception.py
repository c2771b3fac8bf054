"""The paper's network: the FID Inception (TF graph inception-2015-12-05), pool3 features, 2048-d.

The architecture is pytorch-fid's: torchvision's Inception v3 skeleton with 1008 classes and
pytorch-fid's patched blocks (TF's average pooling ignores padding; Mixed_7c max-pools), assembled
here from the installed `pytorch_fid` classes without its URL download, then loaded from our local
copy of `pt_inception-2015-12-05-6726825d.pth` (the same file pytorch-fid and torch-fidelity use).
Never torchvision's ImageNet Inception: its weights differ (pytorch-fid #16).

Inception Score logits: the 1008-way `fc` output. The softmax runs over all 1008 entries, as the
original TF code (openai/improved-gan), TF-GAN (`logits:0`, used by compare_gan) and torch-fidelity do.
By default the bias of `fc` is left out ("unbiased" logits): openai's code multiplies pool3 by the
`softmax/logits/MatMul` weight only and torch-fidelity does the same; TF-GAN's docstring says it uses
"the same weights" as openai's code, but whether its frozen graph's `logits:0` (compare_gan's IS) includes
the bias could not be checked here. `logits: biased` adds it (a higher IS; openai/improved-gan #39).
"""
from __future__ import annotations

from typing import Any

import torch

from gan_study.models.checks import choice
from gan_study.study.metrics.encoders.base import Encoded, register_encoder
from gan_study.study.metrics.encoders.pretrained import PretrainedEncoder
from gan_study.study.metrics.preprocess import inception_input
from gan_study.study.metrics.weights import KNOWN_WEIGHTS

LOGITS_MODES = ("unbiased", "biased")


def fid_inception_v3() -> torch.nn.Module:
    """pytorch-fid's FID Inception architecture (random weights; no download)."""
    from pytorch_fid.inception import FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2
    from torchvision.models.inception import Inception3

    net = Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


def pool3_features(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(N, 3, 299, 299) preprocessed input → (N, 2048) pool_3 (the final average pooling)."""
    for block in (net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, net.maxpool1,
                  net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, net.maxpool2,
                  net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b, net.Mixed_6c,
                  net.Mixed_6d, net.Mixed_6e, net.Mixed_7a, net.Mixed_7b, net.Mixed_7c, net.avgpool):
        x = block(x)
    return torch.flatten(x, 1)


@register_encoder("inception")
class InceptionEncoder(PretrainedEncoder):
    """pool3 (2048) + 1008 logits of the FID Inception on the paper's preprocessing (preprocess.py)."""

    weights = KNOWN_WEIGHTS["inception"]
    network_description = "FID Inception v3 (TF inception-2015-12-05, pytorch-fid port), pool_3 2048-d"
    comparable_to_paper = True

    def __init__(self, logits: str = "unbiased", **options: Any):
        super().__init__(**options)
        choice(f"encoder {self.name!r}: logits", logits, LOGITS_MODES)
        self.logits = logits

    def build_network(self) -> torch.nn.Module:
        return fid_inception_v3()

    @property
    def has_logits(self) -> bool:
        return True

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> Encoded:
        features = pool3_features(self.network, inception_input(images, self.resize))
        fc = self.network.fc
        logits = features @ fc.weight.T + (fc.bias if self.logits == "biased" else 0.0)
        return Encoded(features, logits)

    def card(self) -> dict[str, Any]:
        return {**super().card(), "preprocessing": "x*255, gray tiled to RGB, bilinear to 299, (x-128)/128",
                "is_logits": f"fc 1008-way, softmax over all 1008, {self.logits}"}
