"""The 32×32 classifier of the GAN-train / GAN-test measures: a pre-activation ResNet (He et al., ECCV 2016).

ResNet-18 layout by default: a 3×3 stem convolution, four stages of `blocks` pre-activation basic blocks
(BN-ReLU-conv3×3-BN-ReLU-conv3×3 plus the identity, or a 1×1 strided projection of the pre-activated
input where the shape changes) with width, 2·, 4·, 8·width channels and strides 1, 2, 2, 2; a final
BN-ReLU, global average pooling and a linear layer. `width` and `blocks` make small versions for tests.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class PreActBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.projection = (nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
                           if stride != 1 or in_channels != out_channels else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = F.relu(self.bn1(x))
        shortcut = x if self.projection is None else self.projection(activated)
        out = self.conv1(activated)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    """(N, C, H, W) images in [0, 1] -> (N, num_classes) logits."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 64, blocks: Sequence[int] = (2, 2, 2, 2)):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        stages: list[nn.Module] = []
        channels = width
        for stage, count in enumerate(blocks):
            out_channels = width * 2 ** stage
            for index in range(count):
                stages.append(PreActBlock(channels, out_channels, 2 if stage > 0 and index == 0 else 1))
                channels = out_channels
        self.stages = nn.Sequential(*stages)
        self.bn = nn.BatchNorm2d(channels)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(images * 2.0 - 1.0))
        x = F.adaptive_avg_pool2d(F.relu(self.bn(x)), 1).flatten(1)
        return self.classifier(x)
