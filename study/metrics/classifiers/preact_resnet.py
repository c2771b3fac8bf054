"""The 32×32 classifiers of the GAN-train / GAN-test measures: pre-activation ResNets (He et al., ECCV 2016).

A 3×3 stem convolution, stages of `blocks` pre-activation basic blocks (BN-ReLU-conv3×3-BN-ReLU-conv3×3 plus a
shortcut) with width, 2·width, 4·width… channels and strides 1, 2, 2…; a final BN-ReLU, global average
pooling and a linear layer. Where a block changes the shape, its shortcut is either a 1×1 strided projection
of the pre-activated input (`projection`) or the input itself, subsampled and zero-padded to the new width
(`zero_pad`: option A of He et al.'s CIFAR networks, no parameters).

ResNet-32 (Shmelkov et al.'s CIFAR classifier): width 16, blocks (5, 5, 5), `zero_pad`; 464,154 parameters
for 10 classes. ResNet-18: width 64, blocks (2, 2, 2, 2), `projection`; 11,172,170 parameters.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from gan_study.models.checks import choice


SHORTCUTS = ("projection", "zero_pad")


class PreActBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int, shortcut: str = "projection"):
        super().__init__()
        choice("shortcut", shortcut, SHORTCUTS)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        reshapes = stride != 1 or in_channels != out_channels
        self.projection = (nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
                           if reshapes and shortcut == "projection" else None)
        self.stride, self.added_channels = stride, out_channels - in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = F.relu(self.bn1(x))
        if self.projection is not None:
            shortcut = self.projection(activated)
        else:  # identity, subsampled and zero-padded in channels where the shape changes (option A)
            shortcut = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.added_channels))
        out = self.conv1(activated)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    """(N, C, H, W) images in [0, 1] -> (N, num_classes) logits."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 64, blocks: Sequence[int] = (2, 2, 2, 2),
                 shortcut: str = "projection"):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        stages: list[nn.Module] = []
        channels = width
        for stage, count in enumerate(blocks):
            out_channels = width * 2 ** stage
            for index in range(count):
                stages.append(PreActBlock(channels, out_channels, 2 if stage > 0 and index == 0 else 1, shortcut))
                channels = out_channels
        self.stages = nn.Sequential(*stages)
        self.bn = nn.BatchNorm2d(channels)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(images * 2.0 - 1.0))
        x = F.adaptive_avg_pool2d(F.relu(self.bn(x)), 1).flatten(1)
        return self.classifier(x)
