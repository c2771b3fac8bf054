"""`eval.metrics.gan_train_test`: GAN-train, GAN-test, their harmonic mean and the diversity curve.

Shmelkov, Schmid, Alahari, "How good is my GAN?" (ECCV 2018). A class-conditional generator makes
images of requested classes (balanced: labels 0, 1, ..., K-1, 0, ... over the fixed evaluation latents).
- `gan_test`: the accuracy, on n_test generated images and their requested labels, of a classifier
  trained on the real training split. High when the images look like their class (precision, quality).
- `gan_train`: the accuracy, on the real reference split (test), of a classifier trained on n_train
  generated images. High when the images cover the class distributions (recall, diversity).
- `gan_train_test_hmean`: 2·a·b / (a + b) of the two, one number for a study's objective.
- `real_accuracy`: the real classifier on the reference split: the ceiling both are read against.
- `diversity_curve: [n1, n2, ...]` adds `gan_train_n<n>` (GAN-train with the first n generated images)
  and `real_train_n<n>` (the same classifier trained on the first n real training images) per n.
The real-data classifiers are trained once per (data content, options) and cached under
`<cache_dir>/classifiers/`; the GAN-train classifiers are trained at every evaluation (new images).
"""
from __future__ import annotations

import csv
import inspect
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from gan_study.models.checks import integer
from gan_study.study.data import available_datasets, dataset_info, load_dataset
from gan_study.study.data.image_set import ImageSet
from gan_study.study.metrics.base import EvalContext, Metric
from gan_study.study.metrics.classifiers import CachedClassifier, ClassifierOptions, accuracy, real_classifier, train_classifier
from gan_study.study.metrics.registry import register_metric

log = logging.getLogger("gan_study.metrics")

VALUES = ("gan_train", "gan_test", "gan_train_test_hmean", "real_accuracy")


def harmonic_mean(a: float, b: float) -> float:
    """2ab / (a + b); 0 when both are 0."""
    return 0.0 if a + b == 0 else 2.0 * a * b / (a + b)


def require_labels(dataset_name: str) -> None:
    """GAN-train / GAN-test need class labels; a data set without them is refused by name."""
    if not dataset_info(dataset_name).has_labels:
        labelled = [name for name in available_datasets() if dataset_info(name).has_labels]
        raise ValueError(f"dataset = {dataset_name!r} is not allowed with gan_train_test: it has no class labels; "
                         f"data sets with labels: {labelled}")


def _optional_int(name: str, value: Any, minimum: int) -> int | None:
    return None if value is None else integer(name, value, minimum)


@register_metric("gan_train_test")
class GanTrainTest(Metric):
    """Options: n_train (null: as many as the real training images), n_test, n_reference (null: the whole
    reference split), train_size (first n real training images; null: all), diversity_curve (list of n),
    classifier (ClassifierOptions), batch_size (generation and inference; results do not depend on it)."""

    objectives = {name: "maximize" for name in VALUES}
    requires_conditional = True

    def __init__(self, n_train: int | None = None, n_test: int = 10000, n_reference: int | None = None,
                 train_size: int | None = None, diversity_curve: Sequence[int] | None = None,
                 classifier: Mapping[str, Any] | None = None, batch_size: int = 500, **unknown: Any):
        if unknown:
            allowed = [name for name in inspect.signature(GanTrainTest.__init__).parameters
                       if name not in ("self", "unknown")]
            raise ValueError(f"unknown option(s) {sorted(unknown)}; allowed: {allowed}")
        self.n_train = _optional_int("n_train", n_train, 2)
        self.n_test = integer("n_test", n_test, 1)
        self.n_reference = _optional_int("n_reference", n_reference, 1)
        self.train_size = _optional_int("train_size", train_size, 2)
        curve = [] if diversity_curve is None else diversity_curve
        if isinstance(curve, (str, bytes)) or not isinstance(curve, Sequence):
            raise ValueError(f"diversity_curve = {diversity_curve!r} is not allowed: a list of image counts >= 2")
        self.curve_sizes = tuple(sorted({integer("diversity_curve[]", n, 2) for n in curve}))
        self.classifier = ClassifierOptions.from_options(classifier)
        self.batch_size = integer("batch_size", batch_size, 1)
        curve = {f"{source}_n{n}": "maximize" for n in self.curve_sizes for source in ("gan_train", "real_train")}
        self.objectives = {**GanTrainTest.objectives, **curve}
        self._train: dict[tuple, ImageSet] = {}
        self._real: dict[tuple, CachedClassifier] = {}
        self._real_accuracy: dict[str, float] = {}
        self.last: dict[str, Any] = {}

    # -- the real side: reference split, training split, cached classifiers -----------------------------

    def _reference(self, context: EvalContext) -> ImageSet:
        reference = context.reference
        if reference.labels is None:
            raise ValueError(f"the reference split {reference.name}/{reference.split} has no labels")
        return reference if self.n_reference is None else reference.head(min(self.n_reference, len(reference)))

    def _train_split(self, context: EvalContext) -> ImageSet:
        if context.data_root is None:
            raise ValueError("gan_train_test needs the real training split (EvalContext.data_root was not set)")
        key = (str(context.data_root), context.dataset_name)
        if key not in self._train:  # loaded once per run, not at every evaluation
            train = load_dataset(context.dataset_name, context.data_root, "train")
            self._train[key] = train if self.train_size is None else train.head(min(self.train_size, len(train)))
        return self._train[key]

    def _classifier_of(self, data: ImageSet, context: EvalContext, options: ClassifierOptions) -> CachedClassifier:
        """The cached real classifier of `data`, kept in memory for the next evaluations of this run."""
        key = (str(context.cache_dir), data.name, data.split, len(data), str(context.device))
        if key not in self._real:
            self._real[key] = real_classifier(data, context.num_classes, options, context.cache_dir, context.device)
        return self._real[key]

    def _accuracy_of(self, classifier: CachedClassifier, reference: ImageSet, device: torch.device) -> float:
        """The accuracy of a real classifier on the reference, computed once per classifier and reference."""
        key = f"{classifier.weights_sha256}/{reference.name}/{reference.split}/{len(reference)}"
        if key not in self._real_accuracy:
            self._real_accuracy[key] = accuracy(classifier.network, reference.images, reference.labels, device,
                                                self.batch_size)
        return self._real_accuracy[key]

    # -- the measures -----------------------------------------------------------------------------------

    def _gan_train(self, images: torch.Tensor, labels: torch.Tensor, context: EvalContext, reference: ImageSet,
                   options: ClassifierOptions) -> float:
        network = train_classifier(images, labels, context.num_classes, options, context.device,
                                   f"GAN-train classifier ({context.dataset_name}, n={len(images)})")
        return accuracy(network, reference.images, reference.labels, context.device, self.batch_size)

    def evaluate(self, context: EvalContext) -> dict[str, float]:
        require_labels(context.dataset_name)
        if context.num_classes is None or context.conditional_generator is None:
            raise ValueError(f"gan_train_test needs a class-conditional run (conditional.enabled=true); "
                             f"the run on {context.dataset_name} is unconditional")
        reference = self._reference(context)
        options = self.classifier.resolved(reference.shape)
        train = self._train_split(context)
        too_many = [n for n in self.curve_sizes if n > len(train)]
        if too_many:
            raise ValueError(f"diversity_curve = {list(self.curve_sizes)} is not allowed: the real curve needs at "
                             f"most {len(train)} training images (train_size), got {too_many}")
        real = self._classifier_of(train, context, options)
        real_accuracy = self._accuracy_of(real, reference, context.device)
        n_train = self.n_train or len(train)
        images, labels = context.generate_labeled(max(n_train, self.n_test, *self.curve_sizes), self.batch_size)
        self.last = {"options": options, "real": real, "reference": reference, "train": train, "n_train": n_train,
                     "eval_seed": context.eval_seed, "device": str(context.device)}
        if not bool(torch.isfinite(images).all()):
            return {name: math.nan for name in self.objectives}  # recorded as a divergence by the training loop
        gan_test = accuracy(real.network, images[:self.n_test], labels[:self.n_test], context.device, self.batch_size)
        gan_train = self._gan_train(images[:n_train], labels[:n_train], context, reference, options)
        values = {"gan_train": gan_train, "gan_test": gan_test,
                  "gan_train_test_hmean": harmonic_mean(gan_train, gan_test), "real_accuracy": real_accuracy}
        for n in self.curve_sizes:
            values[f"gan_train_n{n}"] = (gan_train if n == n_train else
                                         self._gan_train(images[:n], labels[:n], context, reference, options))
            curve_classifier = real if n == len(train) else self._classifier_of(train.head(n), context, options)
            values[f"real_train_n{n}"] = self._accuracy_of(curve_classifier, reference, context.device)
        return values

    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = {
            "metric": "gan_train_test", "values": sorted(self.objectives),
            "paper": "Shmelkov, Schmid, Alahari, How good is my GAN? (ECCV 2018)",
            "n_train": self.n_train or "as many as the real training images", "n_test": self.n_test,
            "n_reference": self.n_reference or "the whole reference split",
            "train_size": self.train_size or "the whole training split", "diversity_curve": list(self.curve_sizes),
            "generated_from": "EvalContext.generate_labeled: the fixed evaluation latents, labels 0..K-1 cycling",
            "classifier": self.classifier.to_dict(),
        }
        if not self.last:
            return card
        real: CachedClassifier = self.last["real"]
        reference: ImageSet = self.last["reference"]
        network_parameters = sum(p.numel() for p in real.network.parameters())
        card.update({
            "classifier": {**self.last["options"].to_dict(), "parameters": network_parameters},
            "n_train": self.last["n_train"],
            "real_classifier": {"trained_on": {k: real.key[k] for k in ("dataset", "split", "n", "data_sha256",
                                                                        "labels_sha256")},
                                "weights_sha256": real.weights_sha256, "file": str(real.file)},
            "reference": {"dataset": reference.name, "split": reference.split, "first_n": len(reference)},
            "eval_seed": self.last["eval_seed"], "device": self.last["device"],
        })
        return card


def diversity_curve(context: EvalContext, sizes: Sequence[int], **options: Any) -> list[dict[str, Any]]:
    """GAN-train accuracy against the number of generated training images, beside the same classifier
    trained on as many real images: rows `{n, source: generated | real, accuracy}`, for any EvalContext
    of a class-conditional run (options: those of gan_train_test)."""
    options.setdefault("n_train", max(sizes))  # GAN-train at the largest n is a point of the curve: trained once
    metric = GanTrainTest(diversity_curve=list(sizes), **options)
    values = metric.evaluate(context)
    return [{"n": n, "source": source, "accuracy": values[f"{prefix}_n{n}"]}
            for n in metric.curve_sizes for source, prefix in (("generated", "gan_train"), ("real", "real_train"))]


def write_diversity_curve(rows: list[dict[str, Any]], path: Path) -> Path:
    """The rows of `diversity_curve` as a CSV file (columns n, source, accuracy)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["n", "source", "accuracy"])
        writer.writeheader()
        writer.writerows(rows)
    return path
