"""Training a classifier with the measure's protocol, and its accuracy; deterministic from the seed on a CPU.

The seed fixes the initialisation (drawn under a forked global RNG, which is left untouched), the order of
the images in every epoch and the augmentation. Images are moved to the device once (uint8 stays uint8)
and converted to float one batch at a time.
"""
from __future__ import annotations

import logging
import math
import time

import torch
from torch import nn
from torch.nn import functional as F

from gan_study.study.data.image_set import as_unit_float
from gan_study.study.metrics.classifiers.protocol import CROP_PADDING, LR_DECAY, ClassifierOptions, build_network

log = logging.getLogger("gan_study.metrics")


def crop_and_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image cropped at a random offset from its zero-padded copy (4 px a side) and flipped with p = 1/2."""
    n, _, height, width = images.shape
    padded = F.pad(images, (CROP_PADDING,) * 4)
    dy, dx, flip = (torch.randint(0, 2 * CROP_PADDING + 1, (n,), generator=generator),
                    torch.randint(0, 2 * CROP_PADDING + 1, (n,), generator=generator),
                    torch.rand(n, generator=generator) < 0.5)
    rows = (dy[:, None] + torch.arange(height)).to(images.device)
    columns = (dx[:, None] + torch.arange(width)).to(images.device)
    batch = torch.arange(n, device=images.device)[:, None, None]
    cropped = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], columns[:, None, :]].permute(0, 3, 1, 2)
    return torch.where(flip.to(images.device)[:, None, None, None], cropped.flip(3), cropped)


def train_classifier(images: torch.Tensor, labels: torch.Tensor, num_classes: int, options: ClassifierOptions,
                     device: torch.device, description: str = "classifier") -> nn.Module:
    """A classifier of `images` (N, C, H, W; uint8 or [0, 1] float) trained on `labels` with resolved `options`.

    SGD with momentum and weight decay for `options.iterations` steps (or `options.epochs` passes); the
    learning rate is divided by 10 after each milestone fraction of the steps. The last epoch may be partial.
    Returns the network in eval mode on `device`.
    """
    images, labels = images.to(device), labels.to(device)  # once: no host-to-device copy per batch
    n = len(images)
    if n < 2:
        raise ValueError(f"{description}: training needs at least 2 images, got {n}")
    image_shape = tuple(int(d) for d in images.shape[1:])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        network = build_network(options, image_shape, num_classes)
    network.to(device).train()
    optimizer = torch.optim.SGD(network.parameters(), lr=options.lr, momentum=options.momentum,
                                weight_decay=options.weight_decay)
    batch_size = min(options.batch_size, n)
    steps_per_epoch = n // batch_size + (n % batch_size >= 2)  # a last batch of one image is skipped
    total = options.iterations or options.epochs * steps_per_epoch
    epochs = math.ceil(total / steps_per_epoch)
    milestones = [round(fraction * total) for fraction in options.lr_milestones]
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=LR_DECAY)
    generator = torch.Generator().manual_seed(options.seed)
    augment = options.augmentation == "crop_flip"
    started, step = time.perf_counter(), 0
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        correct, loss_sum, seen = 0, 0.0, 0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size].to(device)
            if len(index) < 2:  # batch normalisation needs two images; at most one image skipped per epoch
                continue
            if step == total:
                break
            step += 1
            batch = as_unit_float(images[index])
            if augment:
                batch = crop_and_flip(batch, generator)
            targets = labels[index]
            logits = network(batch)
            loss = F.cross_entropy(logits, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.item() * len(index)
            seen += len(index)
            correct += int((logits.argmax(1) == targets).sum())
        elapsed = time.perf_counter() - started
        log.info("%s epoch %d/%d (step %d/%d): loss %.4f, train accuracy %.4f, lr %.3g, %.0f img/s, ETA %.0f s",
                 description, epoch + 1, epochs, step, total, loss_sum / seen, correct / seen,
                 schedule.get_last_lr()[0], step * batch_size / elapsed, elapsed / step * (total - step))
    return network.eval()


@torch.no_grad()
def predict(network: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 500) -> torch.Tensor:
    """The predicted class of every image, on the CPU."""
    network.eval()
    return torch.cat([network(as_unit_float(images[start:start + batch_size]).to(device)).argmax(1).cpu()
                      for start in range(0, len(images), batch_size)])


def accuracy(network: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device,
             batch_size: int = 500) -> float:
    """The fraction of `images` whose predicted class is their label."""
    return float((predict(network, images, device, batch_size) == labels.cpu()).double().mean())
