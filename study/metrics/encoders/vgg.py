"""VGG-16 FC7 (4096-d), the paper's encoder-sensitivity check (FID ranks agree with Inception's, ρ ≈ 0.9).

torchvision's ImageNet weights (`vgg16-397923af.pth`), looked up offline like the Inception ones.
FC7 is taken after its ReLU, as Caffe's in-place `relu7` leaves the `fc7` blob; the 1000 ImageNet logits
(fc8) come from the same pass. Input: gray tiled to RGB, bilinear to 224, ImageNet standardisation.
"""
from __future__ import annotations

from typing import Any

import torch

from gan_study.study.metrics.encoders.base import Encoded, register_encoder
from gan_study.study.metrics.encoders.pretrained import PretrainedEncoder
from gan_study.study.metrics.preprocess import imagenet_input
from gan_study.study.metrics.weights import KNOWN_WEIGHTS


@register_encoder("vgg16_fc7")
class VGG16FC7Encoder(PretrainedEncoder):
    weights = KNOWN_WEIGHTS["vgg16"]
    network_description = "torchvision VGG-16 (ImageNet), FC7 after ReLU, 4096-d"

    def build_network(self) -> torch.nn.Module:
        from torchvision.models import vgg16

        return vgg16(weights=None)

    @property
    def has_logits(self) -> bool:
        return True

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> Encoded:
        net = self.network
        x = torch.flatten(net.avgpool(net.features(imagenet_input(images, self.resize))), 1)
        head = net.classifier  # fc6, relu, dropout, fc7, relu | dropout, fc8 (dropout is off in eval mode)
        fc7 = head[:5](x)
        return Encoded(fc7, head[5:](fc7))

    def card(self) -> dict[str, Any]:
        return {**super().card(), "preprocessing": "gray tiled to RGB, bilinear to 224, ImageNet mean/std"}
