"""The GAN-train / GAN-test classifiers: shapes, parameter counts, the training protocol, the real-data cache."""
from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest
import torch

from gan_study.study.data import ImageSet
from gan_study.study.metrics.classifiers import (ClassifierOptions, ConvNet, PreActResNet, build_network, crop_and_flip,
                                       predict, real_classifier, train_classifier)


def convnet_parameters(channels: int, classes: int, w: int) -> int:
    """3×3 convs without bias c→w→2w→4w→8w (9·(cw + 2w² + 8w² + 32w²)), BN scale and shift (2·15w), linear."""
    return 378 * w * w + 9 * channels * w + 30 * w + 8 * w * classes + classes


def preact_resnet18_parameters(channels: int, classes: int, w: int) -> int:
    """Stem 9cw; stages of two blocks (36w²+8w, 128w²+14w, 512w²+28w, 2048w²+56w with the 1×1 projections);
    final BN 16w; linear 8w·k + k."""
    return 2724 * w * w + 122 * w + 9 * channels * w + 8 * w * classes + classes


def separable_set(n: int, seed: int, side: int = 12, channels: int = 1) -> ImageSet:
    """Four classes told apart by which quadrant is bright, on uniform noise: a few epochs learn them."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 4
    images = torch.rand(n, channels, side, side, generator=generator) * 0.5
    half = side // 2
    for k in range(4):
        rows, cols = slice((k // 2) * half, (k // 2 + 1) * half), slice((k % 2) * half, (k % 2 + 1) * half)
        images[labels == k, :, rows, cols] += 0.5
    return ImageSet((images * 255).round().to(torch.uint8), labels, "quadrants", "train")


TINY = ClassifierOptions(architecture="convnet", width=4, epochs=3, batch_size=16, lr=0.05, augmentation="none")


@pytest.mark.parametrize("channels, side, classes, width", [(1, 28, 10, 32), (3, 32, 7, 4), (1, 28, 3, 5)])
def test_convnet_output_shape_and_parameter_count(channels, side, classes, width):
    net = ConvNet(channels, classes, width)
    assert sum(p.numel() for p in net.parameters()) == convnet_parameters(channels, classes, width)
    assert net(torch.rand(2, channels, side, side)).shape == (2, classes)


def test_convnet_default_is_32_64_128_256():
    assert sum(p.numel() for p in ConvNet(1, 10).parameters()) == 390_890  # by hand: 387,360 + 960 + 2,570


@pytest.mark.parametrize("channels, classes, width", [(3, 10, 64), (1, 10, 4), (3, 100, 8)])
def test_preact_resnet18_parameter_count(channels, classes, width):
    with torch.device("meta"):
        net = PreActResNet(channels, classes, width)
    assert sum(p.numel() for p in net.parameters()) == preact_resnet18_parameters(channels, classes, width)


def test_preact_resnet18_at_width_64_has_11_172_170_parameters_and_a_small_one_classifies_32x32():
    assert preact_resnet18_parameters(3, 10, 64) == 11_172_170
    small = PreActResNet(3, 10, width=4, blocks=(1, 1))
    assert small(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    assert small.classifier.in_features == 8  # two stages: 4 then 8 channels


def test_auto_options_follow_the_image_shape():
    mnist = ClassifierOptions().resolved((1, 28, 28))
    cifar = ClassifierOptions().resolved((3, 32, 32))
    assert (mnist.architecture, mnist.augmentation, mnist.width, mnist.epochs) == ("convnet", "none", 32, 30)
    assert (cifar.architecture, cifar.augmentation, cifar.width, cifar.epochs) == (
        "preact_resnet", "crop_flip", 64, 164)
    assert (cifar.lr, cifar.momentum, cifar.weight_decay, cifar.batch_size, cifar.lr_milestones) == (
        0.1, 0.9, 1e-4, 128, (0.5, 0.75))
    assert isinstance(build_network(cifar, (3, 32, 32), 10), PreActResNet)


def test_crop_and_flip_is_a_shifted_window_of_the_padded_image():
    images = torch.rand(6, 3, 5, 7, generator=torch.Generator().manual_seed(1))
    out = crop_and_flip(images, torch.Generator().manual_seed(9))
    replay = torch.Generator().manual_seed(9)  # the same draws, in the order the function makes them
    dy, dx = torch.randint(0, 9, (6,), generator=replay), torch.randint(0, 9, (6,), generator=replay)
    flip = torch.rand(6, generator=replay) < 0.5
    padded = torch.zeros(6, 3, 13, 15)
    padded[:, :, 4:9, 4:11] = images
    for i in range(6):
        window = padded[i, :, dy[i]:dy[i] + 5, dx[i]:dx[i] + 7]
        assert torch.equal(out[i], window.flip(2) if flip[i] else window)


def test_training_is_deterministic_and_leaves_the_global_rng_alone():
    data = separable_set(64, seed=0)
    state = torch.random.get_rng_state()
    first = train_classifier(data.images, data.labels, 4, TINY, torch.device("cpu"))
    assert torch.equal(torch.random.get_rng_state(), state)
    second = train_classifier(data.images, data.labels, 4, TINY, torch.device("cpu"))
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name
    other = train_classifier(data.images, data.labels, 4, replace(TINY, seed=1), torch.device("cpu"))
    assert not torch.equal(other.classifier.weight, first.classifier.weight)


def test_the_learning_rate_is_divided_by_10_at_half_and_three_quarters(caplog):
    data = separable_set(48, seed=0)
    options = replace(TINY, epochs=4)
    with caplog.at_level(logging.INFO, logger="gan_study.metrics"):
        train_classifier(data.images, data.labels, 4, options, torch.device("cpu"), "probe")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("probe epoch")]
    assert [re.search(r"lr (\S+),", line).group(1) for line in lines] == ["0.05", "0.005", "0.0005", "0.0005"]
    assert all(re.search(r"img/s, ETA \d+ s$", line) for line in lines)


def test_a_separable_problem_is_learned():
    train, test = separable_set(256, seed=0), separable_set(200, seed=1)
    options = replace(TINY, epochs=6)
    net = train_classifier(train.images, train.labels, 4, options, torch.device("cpu"))
    assert (predict(net, test.images, torch.device("cpu")) == test.labels).double().mean() >= 0.95


def test_the_real_classifier_is_trained_once_then_loaded_and_retrained_when_an_option_changes(tmp_path):
    data = separable_set(64, seed=0)
    cpu = torch.device("cpu")
    first = real_classifier(data, 4, TINY, tmp_path, cpu)
    second = real_classifier(data, 4, TINY, tmp_path, cpu)
    assert first.trained and not second.trained
    assert first.file == second.file and first.file.parent == tmp_path / "classifiers" and first.file.exists()
    assert second.weights_sha256 == first.weights_sha256
    probe = separable_set(32, seed=5).images
    assert torch.equal(predict(first.network, probe, cpu), predict(second.network, probe, cpu))
    changed = real_classifier(data, 4, replace(TINY, epochs=4), tmp_path, cpu)
    assert changed.trained and changed.file != first.file and changed.weights_sha256 != first.weights_sha256
    relabelled = ImageSet(data.images, (data.labels + 1) % 4, data.name, data.split)
    assert real_classifier(relabelled, 4, TINY, tmp_path, cpu).trained  # same images, other labels: another key


@pytest.mark.parametrize("options, message", [
    ({"architecture": "vgg"},
     "classifier.architecture = 'vgg' is not allowed: one of ['auto', 'convnet', 'preact_resnet']"),
    ({"lr": -1}, "classifier.lr = -1 is not allowed: a positive number"),
    ({"momentum": 1.0}, "classifier.momentum = 1.0 is not allowed: a number in [0, 1)"),
    ({"lr_milestones": [0.75, 0.5]}, "classifier.lr_milestones = (0.75, 0.5) is not allowed: increasing fractions"),
    ({"epochs": 0}, "classifier.epochs = 0 is not allowed: an integer >= 1"),
    ({"blocks": [2, 0]}, "classifier.blocks = (2, 0) is not allowed: a list of integers >= 1"),
    ({"augmentation": "mixup"},
     "classifier.augmentation = 'mixup' is not allowed: one of ['auto', 'none', 'crop_flip']"),
    ({"dropout": 0.5}, "classifier: unknown option(s) ['dropout']; allowed: ['architecture', 'augmentation',"),
])
def test_bad_classifier_options_are_named_with_what_is_allowed(options, message):
    with pytest.raises(ValueError) as error:
        ClassifierOptions.from_options(options)
    assert message in str(error.value)
