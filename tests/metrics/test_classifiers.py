"""The GAN-train / GAN-test classifiers: shapes, parameter counts, the training protocol, the real-data cache."""
from __future__ import annotations

import logging
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from labelled_digits import TRAIN_SIZE

from gan_study.study.data import ImageSet
from gan_study.study.metrics.classifiers import (ClassifierOptions, ConvNet, PreActResNet, accuracy, build_network,
                                                 crop_and_flip, predict, real_classifier, train_classifier)


def convnet_parameters(channels: int, classes: int, w: int) -> int:
    """3×3 convs without bias c→w→2w→4w→8w (9·(cw + 2w² + 8w² + 32w²)), BN scale and shift (2·15w), linear."""
    return 378 * w * w + 9 * channels * w + 30 * w + 8 * w * classes + classes


def preact_resnet18_parameters(channels: int, classes: int, w: int) -> int:
    """Stem 9cw; stages of two blocks (36w²+8w, 128w²+14w, 512w²+28w, 2048w²+56w with the 1×1 projections);
    final BN 16w; linear 8w·k + k."""
    return 2724 * w * w + 122 * w + 9 * channels * w + 8 * w * classes + classes


def preact_resnet32_parameters(channels: int, classes: int, w: int) -> int:
    """Stem 9cw; stage 1: five blocks of 18w²+4w; stage 2: 54w²+6w then four of 72w²+8w; stage 3: 216w²+12w
    then four of 288w²+16w (zero-padded shortcuts carry no weights); final BN 8w; linear 4w·k + k."""
    return 1800 * w * w + 142 * w + 9 * channels * w + 4 * w * classes + classes


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


@pytest.mark.parametrize("channels, classes, width", [(3, 10, 16), (3, 100, 16), (1, 10, 4)])
def test_preact_resnet32_parameter_count(channels, classes, width):
    net = build_network(ClassifierOptions(architecture="preact_resnet32", width=width).resolved((channels, 32, 32)),
                        (channels, 32, 32), classes)
    assert sum(p.numel() for p in net.parameters()) == preact_resnet32_parameters(channels, classes, width)


def test_preact_resnet32_is_shmelkovs_cifar_classifier():
    assert preact_resnet32_parameters(3, 10, 16) == 464_154  # "0.46M" (He et al., Table 6)
    net = build_network(ClassifierOptions().resolved((3, 32, 32)), (3, 32, 32), 10)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 31 and all(c.kernel_size == (3, 3) for c in convs)  # stem + 30: 32 layers with the linear
    shapes = []
    hooks = [net.stages[i].register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
             for i in (4, 9, 14)]
    assert net(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    for hook in hooks:
        hook.remove()
    assert shapes == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]


def test_the_zero_padded_shortcut_is_the_subsampled_input_with_zero_channels():
    net = PreActResNet(1, 10, width=4, blocks=(1, 1), shortcut="zero_pad")
    block = net.stages[1]  # 4 -> 8 channels, stride 2
    torch.nn.init.zeros_(block.conv2.weight)  # the residual branch is then zero
    x = torch.rand(2, 4, 6, 6)
    out = block(x)
    assert torch.equal(out[:, :4], x[:, :, ::2, ::2]) and torch.equal(out[:, 4:], torch.zeros(2, 4, 3, 3))


def test_auto_options_follow_the_image_shape():
    mnist = ClassifierOptions().resolved((1, 28, 28))
    cifar = ClassifierOptions().resolved((3, 32, 32))
    assert (mnist.architecture, mnist.augmentation, mnist.width, mnist.iterations, mnist.epochs) == (
        "convnet", "none", 32, 64_000, None)
    assert (cifar.architecture, cifar.augmentation, cifar.width, cifar.blocks, cifar.iterations) == (
        "preact_resnet32", "crop_flip", 16, (5, 5, 5), 64_000)
    assert (cifar.lr, cifar.momentum, cifar.weight_decay, cifar.batch_size, cifar.lr_milestones) == (
        0.1, 0.9, 1e-4, 128, (0.5, 0.75))
    old = ClassifierOptions(architecture="preact_resnet18", epochs=164).resolved((3, 32, 32))
    assert (old.width, old.blocks, old.iterations, old.epochs) == (64, (2, 2, 2, 2), None, 164)
    assert sum(p.numel() for p in build_network(old, (3, 32, 32), 10).parameters()) == 11_172_170


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


def test_iterations_count_sgd_steps_across_a_partial_last_epoch(caplog):
    data = separable_set(48, seed=0)  # 3 steps of 16 per epoch: 10 steps = 3 epochs and one step
    with caplog.at_level(logging.INFO, logger="gan_study.metrics"):
        train_classifier(data.images, data.labels, 4, replace(TINY, epochs=None, iterations=10),
                         torch.device("cpu"), "probe")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("probe epoch")]
    assert [re.search(r"epoch (\S+) \(step (\S+)\)", line).groups() for line in lines] == [
        ("1/4", "3/10"), ("2/4", "6/10"), ("3/4", "9/10"), ("4/4", "10/10")]
    # milestones round(0.5·10) = 5 and round(0.75·10) = 8: after epoch 2 the rate was cut once, after epoch 3 twice
    assert [re.search(r"lr (\S+),", line).group(1) for line in lines] == ["0.05", "0.005", "0.0005", "0.0005"]


@pytest.mark.parametrize("architecture, least", [("convnet", 0.85), ("preact_resnet32", 0.85)])
def test_each_default_architecture_learns_the_uci_digits(digits_8x8, architecture, least):
    """A short run (60 steps of 32, width 8) on the real 8×8 scans: 1,297 to train, 500 to test."""
    images, labels = digits_8x8
    options = ClassifierOptions(architecture=architecture, width=8, iterations=60, batch_size=32,
                                lr=0.05).resolved(tuple(images.shape[1:]))
    net = train_classifier(images[:TRAIN_SIZE], labels[:TRAIN_SIZE], 10, options, torch.device("cpu"))
    assert accuracy(net, images[TRAIN_SIZE:], labels[TRAIN_SIZE:], torch.device("cpu")) >= least


@pytest.fixture(scope="module")
def digits_8x8() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    return torch.from_numpy(images), torch.from_numpy(digits.target).long()


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
     "classifier.architecture = 'vgg' is not allowed: one of ['auto', 'convnet', 'preact_resnet32', 'preact_resnet18']"),
    ({"epochs": 30, "iterations": 1000},
     "classifier.iterations = 1000 and classifier.epochs = 30: give at most one of the two"),
    ({"lr": -1}, "classifier.lr = -1 is not allowed: a finite number > 0"),
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
