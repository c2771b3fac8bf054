"""How a GAN-train / GAN-test classifier is built and trained: options, their validation and defaults.

Defaults follow Shmelkov et al., "How good is my GAN?" (ECCV 2018, §5): on CIFAR a pre-activation ResNet-32
(three stages of five basic blocks, 16/32/64 channels, zero-padded identity shortcuts as He et al. build their
CIFAR networks), on MNIST four convolutional layers (32/64/128/256 filters) with batch normalisation,
max-pooling and global average pooling; both trained for 64k iterations of batch 128 with SGD (momentum 0.9,
weight decay 1e-4), learning rate 0.1 divided by 10 at 32k and 48k iterations (50 % and 75 %), random
4-pixel-padded crops and horizontal flips for colour images. MNIST-like data (one channel) get no augmentation
(a flipped digit is another digit). The earlier defaults (ResNet-18; 30 / 164 epochs) remain options.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from torch import nn

from gan_study.models.checks import check, integer, is_integer, is_number, number, positive
from gan_study.study.metrics.classifiers.convnet import ConvNet
from gan_study.study.metrics.classifiers.preact_resnet import PreActResNet

ARCHITECTURES = ("auto", "convnet", "preact_resnet32", "preact_resnet18")
AUGMENTATIONS = ("auto", "none", "crop_flip")
DEFAULT_WIDTH = {"convnet": 32, "preact_resnet32": 16, "preact_resnet18": 64}
DEFAULT_BLOCKS = {"convnet": (), "preact_resnet32": (5, 5, 5), "preact_resnet18": (2, 2, 2, 2)}
SHORTCUT = {"preact_resnet32": "zero_pad", "preact_resnet18": "projection"}
DEFAULT_ITERATIONS = 64_000
CROP_PADDING = 4
LR_DECAY = 0.1


@dataclass(frozen=True)
class ClassifierOptions:
    """One classifier recipe; `auto` / None fields are filled from the image shape by `resolved`."""

    architecture: str = "auto"
    """auto: convnet for images up to 28×28, preact_resnet32 above (CIFAR's 32×32)."""
    width: int | None = None
    """Channels of the first stage (convnet: 32 -> 32/64/128/256; preact_resnet32: 16 -> 16/32/64;
    preact_resnet18: 64 -> 64/128/256/512)."""
    blocks: tuple[int, ...] | None = None
    """ResNets: basic blocks per stage ((5, 5, 5) for ResNet-32, (2, 2, 2, 2) for ResNet-18)."""
    iterations: int | None = None
    """SGD steps; 64k unless `epochs` is given."""
    epochs: int | None = None
    """Passes over the data instead of `iterations` (at most one of the two)."""
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_milestones: tuple[float, ...] = (0.5, 0.75)
    """Fractions of training after which the learning rate is divided by 10."""
    augmentation: str = "auto"
    """auto: crop_flip for colour images, none for grey ones."""
    seed: int = 0
    """Initialisation, data order and augmentation."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> ClassifierOptions:
        """Validated options; a bad one raises ValueError naming `classifier.<field>`, its value and what is allowed."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"classifier: unknown option(s) {unknown}; allowed: {sorted(cls.__dataclass_fields__)}")
        chosen = cls(**{key: tuple(value) if key in ("blocks", "lr_milestones") and isinstance(value, Sequence)
                        and not isinstance(value, str) else value for key, value in options.items()})
        chosen._check()
        return chosen

    def _check(self) -> None:
        _one_of("architecture", self.architecture, ARCHITECTURES)
        _one_of("augmentation", self.augmentation, AUGMENTATIONS)
        for name in ("width", "iterations", "epochs"):
            if getattr(self, name) is not None:
                integer(f"classifier.{name}", getattr(self, name), 1)
        if self.iterations is not None and self.epochs is not None:
            raise ValueError(f"classifier.iterations = {self.iterations!r} and classifier.epochs = {self.epochs!r}: "
                             "give at most one of the two")
        integer("classifier.batch_size", self.batch_size, 2)
        positive("classifier.lr", self.lr)
        number("classifier.momentum", self.momentum, lambda v: 0 <= v < 1, "a number in [0, 1)")
        number("classifier.weight_decay", self.weight_decay, lambda v: v >= 0, "a number >= 0")
        check(self.blocks is None or (isinstance(self.blocks, tuple) and bool(self.blocks)
                                      and all(is_integer(b) and b >= 1 for b in self.blocks)),
              "classifier.blocks", self.blocks, "a list of integers >= 1")
        milestones = self.lr_milestones
        if not isinstance(milestones, tuple) or not all(is_number(m) and 0 < m < 1 for m in milestones) \
                or list(milestones) != sorted(set(milestones)):
            raise ValueError(f"classifier.lr_milestones = {milestones!r} is not allowed: "
                             "increasing fractions of training in (0, 1)")
        integer("classifier.seed", self.seed, 0)

    def resolved(self, image_shape: tuple[int, int, int]) -> ClassifierOptions:
        """Every `auto` / None replaced by its value for images of shape (C, H, W)."""
        channels, height, width = image_shape
        architecture = self.architecture
        if architecture == "auto":
            architecture = "convnet" if max(height, width) <= 28 else "preact_resnet32"
        augmentation = self.augmentation
        if augmentation == "auto":
            augmentation = "crop_flip" if channels == 3 else "none"
        return replace(self, architecture=architecture, augmentation=augmentation,
                       width=self.width or DEFAULT_WIDTH[architecture],
                       blocks=self.blocks if self.blocks is not None else DEFAULT_BLOCKS[architecture],
                       iterations=self.iterations or (None if self.epochs else DEFAULT_ITERATIONS))

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        return {**values, "blocks": None if self.blocks is None else list(self.blocks),
                "lr_milestones": list(self.lr_milestones)}


def build_network(options: ClassifierOptions, image_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """The (randomly initialised) network of resolved `options`."""
    if options.architecture == "convnet":
        return ConvNet(image_shape[0], num_classes, options.width)
    if options.architecture in SHORTCUT:
        return PreActResNet(image_shape[0], num_classes, options.width, options.blocks, SHORTCUT[options.architecture])
    raise ValueError(f"classifier.architecture = {options.architecture!r} is not resolved; call resolved() first")


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"classifier.{name} = {value!r} is not allowed: one of {list(allowed)}")
