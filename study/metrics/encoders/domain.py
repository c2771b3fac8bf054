"""A small convnet trained on the data set itself: a cheap, CPU-friendly encoder.

Features are its penultimate layer (128-d after ReLU); its class logits allow a "domain" Inception
Score. It is trained once per (data set contents, task, hyperparameters) and cached under
`cache_dir/encoders/`. Its FIDs are NOT comparable to the paper's (a different network on a different
scale) and not across data sets; they are for quick relative comparisons and CPU-only tests.

Task: `labels` trains a classifier on the training split's labels. Data sets without informative
labels (Triangles: every label is 3) use `rotation`, a self-supervised proxy: predict which multiple of
90° an image was rotated by. `auto` picks labels when there are at least two distinct ones.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from gan_study.models.checks import choice, integer, positive
from gan_study.study.data.image_set import ImageSet
from gan_study.study.metrics.cache import ArrayCache, content_digest, tensor_digest
from gan_study.study.metrics.encoders.base import Encoded, EncoderSetup, FeatureExtractor, register_encoder

log = logging.getLogger("gan_study.metrics")

TASKS = ("auto", "labels", "rotation")


class SmallConvNet(nn.Module):
    """Three strided 3×3 convolutions, global average pooling, a 128-d feature layer, a linear classifier."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 32, feature_dim: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(4 * width, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(images * 2.0 - 1.0)
        return features, self.head(features)


def rotate_batch(images: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image rotated by k·90°, k uniform in {0, 1, 2, 3}; returns (rotated, k)."""
    k = torch.randint(0, 4, (len(images),), generator=generator).to(images.device)
    rotated = images.clone()
    for quarter in range(1, 4):
        chosen = k == quarter
        rotated[chosen] = torch.rot90(images[chosen], quarter, dims=(2, 3))
    return rotated, k


@register_encoder("domain_classifier")
class DomainClassifierEncoder(FeatureExtractor):
    """Options: task (auto | labels | rotation), epochs, train_size (first n training images; null: all),
    batch_size, lr, width, feature_dim, seed."""

    def __init__(self, task: str = "auto", epochs: int = 2, train_size: int | None = 20000, batch_size: int = 128,
                 lr: float = 1e-3, width: int = 32, feature_dim: int = 128, seed: int = 0, **options: Any):
        super().__init__(**options)
        choice(f"encoder {self.name!r}: task", task, TASKS)
        for option, value in {"epochs": epochs, "batch_size": batch_size, "width": width,
                              "feature_dim": feature_dim}.items():
            integer(f"encoder {self.name!r}: {option}", value, 1)
        if train_size is not None:
            integer(f"encoder {self.name!r}: train_size", train_size, 2)
        positive(f"encoder {self.name!r}: lr", lr)
        self.hparams = {"task": task, "epochs": epochs, "train_size": train_size, "batch_size": batch_size,
                        "lr": float(lr), "width": width, "feature_dim": feature_dim, "seed": int(seed)}
        self.network: SmallConvNet | None = None
        self.task: str | None = None
        self.weights_sha256: str | None = None
        self.trained_on: dict[str, Any] = {}

    def prepare(self, setup: EncoderSetup) -> None:
        if self.network is not None:
            self.network.to(setup.device)
            return
        if setup.train_set is None:
            raise ValueError("encoder 'domain_classifier' needs the data set's training split "
                             "(EvalContext.data_root was not set)")
        train = setup.train_set()
        if self.hparams["train_size"] is not None:
            train = train.head(min(self.hparams["train_size"], len(train)))
        self.task = self._resolve_task(train)
        num_classes = 4 if self.task == "rotation" else int(train.labels.max()) + 1
        key = {"dataset": setup.dataset_name, "split": train.split, "n": len(train),
               "data_sha256": tensor_digest(train.images), **self.hparams, "task": self.task,
               "num_classes": num_classes, "version": 1}
        cache = ArrayCache(setup.cache_dir / "encoders")
        stored = cache.load(f"domain_classifier-{setup.dataset_name}", key)
        if stored is None:
            trained = self._train(train, num_classes, setup.device)
            stored = {name: tensor.detach().cpu().numpy() for name, tensor in trained.state_dict().items()}
            cache.save(f"domain_classifier-{setup.dataset_name}", key, stored)
        net = SmallConvNet(train.shape[0], num_classes, self.hparams["width"], self.hparams["feature_dim"])
        net.load_state_dict({name: torch.from_numpy(np.array(array)) for name, array in stored.items()})
        self.weights_sha256 = content_digest(key, stored)
        self.trained_on = {"dataset": setup.dataset_name, "split": train.split, "n": len(train),
                           "data_sha256": key["data_sha256"]}
        self.network = net.eval().requires_grad_(False).to(setup.device)

    def _resolve_task(self, train: ImageSet) -> str:
        task = self.hparams["task"]
        informative = train.labels is not None and len(torch.unique(train.labels)) >= 2
        if task == "labels" and not informative:
            raise ValueError(f"encoder 'domain_classifier': task = 'labels' needs at least two distinct labels in "
                             f"{train.name}/{train.split}; use task: rotation (or auto)")
        if task == "auto":
            return "labels" if informative else "rotation"
        return task

    def _train(self, train: ImageSet, num_classes: int, device: torch.device) -> SmallConvNet:
        """Adam on cross-entropy, seeded (initialisation and data order) without touching the global RNG."""
        hp = self.hparams
        generator = torch.Generator().manual_seed(hp["seed"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(hp["seed"])
            net = SmallConvNet(train.shape[0], num_classes, hp["width"], hp["feature_dim"])
        net.to(device).train()
        optimizer = torch.optim.Adam(net.parameters(), lr=hp["lr"])
        n, started = len(train), time.perf_counter()
        for epoch in range(hp["epochs"]):
            order = torch.randperm(n, generator=generator)
            correct, loss_sum = 0, 0.0
            for start in range(0, n, hp["batch_size"]):
                index = order[start:start + hp["batch_size"]]
                images = train.batch(index).to(device)
                if self.task == "rotation":
                    images, targets = rotate_batch(images, generator)
                else:
                    targets = train.labels[index].to(device)
                logits = net(images)[1]
                loss = nn.functional.cross_entropy(logits, targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_sum += loss.item() * len(index)
                correct += int((logits.argmax(1) == targets).sum())
            elapsed = time.perf_counter() - started
            log.info("domain_classifier (%s, %s) epoch %d/%d: loss %.4f, train accuracy %.3f, %.0f img/s, ETA %.0f s",
                     train.name, self.task, epoch + 1, hp["epochs"], loss_sum / n, correct / n,
                     (epoch + 1) * n / elapsed, elapsed / (epoch + 1) * (hp["epochs"] - epoch - 1))
        return net.cpu()

    @property
    def has_logits(self) -> bool:
        return True

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> Encoded:
        features, logits = self.network(images.float())
        return Encoded(features, logits)

    @property
    def identity(self) -> str:
        if self.weights_sha256 is None:
            raise RuntimeError("encoder 'domain_classifier': prepare() first")
        return f"domain_classifier-{self.task}-{self.weights_sha256[:16]}"

    def card(self) -> dict[str, Any]:
        return {"encoder": self.name, "network": "SmallConvNet (3 strided convs, 128-d penultimate features)",
                "task": self.task, "hyperparameters": self.hparams, "trained_on": self.trained_on,
                "weights_sha256": self.weights_sha256, "comparable_to_paper": False,
                "preprocessing": "none: native resolution, [0, 1] mapped to [-1, 1]"}
