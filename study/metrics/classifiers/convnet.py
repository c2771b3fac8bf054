"""The 28×28 classifier of the GAN-train / GAN-test measures: a plain convnet with batch normalisation.

Four 3×3 convolutions (width, 2·width, 4·width, 8·width channels; 32/64/128/256 by default), each followed
by batch normalisation and a ReLU; 2×2 max-pooling after the first three (28 → 14 → 7 → 3); global
average pooling; one linear layer to the class logits. The convolutions carry no bias (the following
batch normalisation has one).
"""
from __future__ import annotations

import torch
from torch import nn


class ConvNet(nn.Module):
    """(N, C, H, W) images in [0, 1] -> (N, num_classes) logits."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 32):
        super().__init__()
        channels = [in_channels, width, 2 * width, 4 * width, 8 * width]
        layers: list[nn.Module] = []
        for index in range(4):
            layers += [nn.Conv2d(channels[index], channels[index + 1], 3, padding=1, bias=False),
                       nn.BatchNorm2d(channels[index + 1]), nn.ReLU(inplace=True)]
            if index < 3:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(8 * width, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images * 2.0 - 1.0))
