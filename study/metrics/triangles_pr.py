"""`eval.metrics.triangles_pr`: precision, recall and F1 on Triangles (docs/protocol.md#precision-and-recall).

* precision: the fraction of n generated samples (the fixed evaluation latents) whose distance to the
  Triangles manifold is below δ (`triangle_fit`: the generator's own 3-angle family, exact support box,
  template-bank or random starts, Adam through a soft renderer, scored by the exact hard raster);
* recall: the fraction of the first n reference (test) triangles that G reproduces within δ
  (`latent_inversion`: min over z in the prior's support of ‖x − G(z)‖²);
* F1 = 2PR / (P + R), 0 when both are 0.

Distances are sums over the 784 pixels of squared differences (images in [0, 1], white = 1). With the
per-pixel mean instead, δ = 0.75 would accept everything, uniform noise included. δ = 0.75 (sum) accepts
only near pixel-perfect triangles, so the median distance and the fractions below looser thresholds are
reported beside it: they rank models long before precision leaves 0. The paper's code for these numbers
was never released (compare_gan#25): δ, n, the normalisation and every optimiser setting are ours.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from gan_study.models.checks import choice, flag, integer, is_number, positive
from gan_study.study.metrics import triangle_fit
from gan_study.study.metrics.base import EvalContext, Metric
from gan_study.study.metrics.cache import ArrayCache
from gan_study.study.metrics.latent_inversion import InversionSchedule, invert_generator
from gan_study.study.metrics.measures import write_artefact
from gan_study.study.metrics.registry import register_metric

log = logging.getLogger("gan_study.metrics")

IMAGE_SHAPE = (1, 28, 28)
PRECISION_DEFAULTS = {"bank": {"steps": 60, "lr": 0.03, "sharpness_start": 2.0},
                      "random": {"steps": 150, "lr": 0.1, "sharpness_start": 0.5}}
"""Per start mode, the settings the prototype study found reliable (shared/triangles_pr.md)."""
Z_BOUND_PROBE = 4096
ARTEFACT = "triangles_pr.npz"
UNVERIFIED = ("UNVERIFIED: the paper's precision/recall code was never released (compare_gan#25); delta, n, "
              "the sum-over-pixels normalisation and every optimiser setting are this project's choices")


@register_metric("triangles_pr")
class TrianglesPR(Metric):
    """Options: delta, n, thresholds, recall (false: precision only), seed, batch_size, shown (8: the most and least
    precise samples, and the best and worst recalled test triangles, written with their distances to the run's
    `measures/triangles_pr.npz`, the report's figure; 0: none); precision search:
    init ("bank" | "random"), bank_grid, top_k, restarts (random mode), steps, lr, sharpness_start,
    sharpness_end, subsamples, lr_floor (steps/lr/sharpness_start default per init mode); recall search:
    recall_restarts, recall_pool, recall_steps, recall_lr, recall_lr_floor, z_bound ("auto" | number | null),
    recall_batch_size.

    Recall defaults (one descent of 300 constant-lr Adam steps from the nearest of 8192 prior draws) come
    from inverting a 2,500-step NS GAN on 128 test triangles: at equal cost, more steps beat more
    restarts (300×1: 0.96 recalled; 150×2: 0.86; 4 random restarts × 300: 0.86)."""

    objectives = {"precision": "maximize", "recall": "maximize", "f1": "maximize",
                  "precision_median_distance": "minimize", "recall_median_distance": "minimize"}

    def __init__(self, delta: float = 0.75, n: int = 1024, thresholds: Sequence[float] = (2.0, 5.0, 10.0),
                 recall: bool = True, seed: int = 0, batch_size: int = 500,
                 init: str = "bank", bank_grid: int = 16, top_k: int = 2, restarts: int = 8,
                 steps: int | None = None, lr: float | None = None, sharpness_start: float | None = None,
                 sharpness_end: float = 4.0, subsamples: int = 1, lr_floor: float = 0.1,
                 recall_restarts: int = 1, recall_pool: int = 8192, recall_steps: int = 300,
                 recall_lr: float = 0.1, recall_lr_floor: float = 1.0, z_bound: str | float | None = "auto",
                 recall_batch_size: int = 2048, shown: int = 8):
        self.delta = positive("delta", delta)
        self.shown = integer("shown", shown, minimum=0)
        self.n = integer("n", n, 1)
        self.thresholds = _thresholds(thresholds)
        self.with_recall = flag("recall", recall)
        self.seed = integer("seed", seed, minimum=0)
        self.batch_size = integer("batch_size", batch_size, 1)
        self.init = choice("init", init, sorted(PRECISION_DEFAULTS))
        self.bank_grid = integer("bank_grid", bank_grid, 1)
        self.top_k = integer("top_k", top_k, 1)
        if self.top_k > self.bank_grid ** 3:
            raise ValueError(f"top_k = {top_k} is not allowed: at most bank_grid³ = {self.bank_grid ** 3}")
        self.restarts = integer("restarts", restarts, 1)
        defaults = PRECISION_DEFAULTS[init]
        self.fit = triangle_fit.FitSchedule(
            steps=integer("steps", defaults["steps"] if steps is None else steps, minimum=0),
            lr=positive("lr", defaults["lr"] if lr is None else lr),
            sharpness_start=positive("sharpness_start",
                                             defaults["sharpness_start"] if sharpness_start is None else sharpness_start),
            sharpness_end=positive("sharpness_end", sharpness_end),
            subsamples=integer("subsamples", subsamples, 1),
            lr_floor=_fraction("lr_floor", lr_floor))
        self.inversion = InversionSchedule(
            steps=integer("recall_steps", recall_steps, minimum=0),
            lr=positive("recall_lr", recall_lr),
            restarts=integer("recall_restarts", recall_restarts, 1),
            pool=integer("recall_pool", recall_pool, minimum=0),
            lr_floor=_fraction("recall_lr_floor", recall_lr_floor))
        if 0 < self.inversion.pool < self.inversion.restarts:
            raise ValueError(f"recall_pool = {recall_pool} is not allowed: 0 (random restarts) or at least "
                             f"recall_restarts = {recall_restarts}")
        if not (z_bound == "auto" or z_bound is None or (is_number(z_bound) and z_bound > 0)):
            raise ValueError(f"z_bound = {z_bound!r} is not allowed: \"auto\", null (no projection) or a positive number")
        self.z_bound = z_bound
        self.recall_batch_size = integer("recall_batch_size", recall_batch_size, 1)
        self.objectives = self._objectives()
        self._bank: triangle_fit.TemplateBank | None = None
        self.last: dict[str, Any] = {}

    # -- values -----------------------------------------------------------------------------------

    def _objectives(self) -> dict[str, str]:
        sides = ("precision", "recall") if self.with_recall else ("precision",)
        objectives = {side: "maximize" for side in sides}
        if self.with_recall:
            objectives["f1"] = "maximize"
        for side in sides:
            objectives[f"{side}_median_distance"] = "minimize"
            objectives.update({_fraction_name(side, t): "maximize" for t in self.thresholds})
        return objectives

    def _summary(self, side: str, distances: torch.Tensor) -> dict[str, float]:
        values = {side: float((distances < self.delta).double().mean()),
                  f"{side}_median_distance": float(distances.median())}
        values.update({_fraction_name(side, t): float((distances < t).double().mean()) for t in self.thresholds})
        return values

    def evaluate(self, context: EvalContext) -> dict[str, float]:
        generated = context.generate(self.n, self.batch_size)
        if tuple(generated.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"triangles_pr needs {IMAGE_SHAPE} images (the Triangles data set), the generator of "
                             f"data set {context.dataset_name!r} makes {tuple(generated.shape[1:])}")
        if not bool(torch.isfinite(generated).all()):
            return {name: math.nan for name in self.objectives}  # recorded as a divergence by the training loop
        started = time.perf_counter()
        precision_distances = self.precision_distances(generated.flatten(1).to(context.device), context)
        values = self._summary("precision", precision_distances)
        self.last = {"precision_s": time.perf_counter() - started, "device": str(context.device),
                     "eval_seed": context.eval_seed}
        if self.with_recall:
            started = time.perf_counter()
            recall_distances = self.recall_distances(context)
            values.update(self._summary("recall", recall_distances))
            precision, recall = values["precision"], values["recall"]
            values["f1"] = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
            self.last["recall_s"] = time.perf_counter() - started
        if context.run_dir is not None and self.shown:
            recall = (context.reference.batch(torch.arange(self.n)), recall_distances) if self.with_recall else None
            write_artefact(Path(context.run_dir) / "measures", ARTEFACT,
                           self.extremes(generated, precision_distances, recall))
        return {name: values[name] for name in self.objectives}

    def extremes(self, generated: torch.Tensor, precision_distances: torch.Tensor,
                 recall: tuple[torch.Tensor, torch.Tensor] | None) -> dict[str, Any]:
        """The `shown` samples nearest to and farthest from the manifold (precision), and with recall the `shown`
        test triangles G reproduces best and worst, each with its distance, nearest first: what δ accepts and
        rejects."""
        payload: dict[str, Any] = {"delta": self.delta, "n": self.n}
        sides = [("precision", generated, precision_distances)] + ([("recall", *recall)] if recall else [])
        for side, images, distances in sides:
            order = distances.argsort()
            for end, index in (("best", order[:self.shown]), ("worst", order.flip(0)[:self.shown].flip(0))):
                payload[f"{side}_{end}_images"] = images[index].float().numpy()
                payload[f"{side}_{end}_distances"] = distances[index].double().numpy()
        return payload

    # -- the two searches -------------------------------------------------------------------------

    def precision_distances(self, images: torch.Tensor, context: EvalContext) -> torch.Tensor:
        """(N, 784) images → (N,) float64 distances to the Triangles manifold."""
        if self.init == "bank":
            starts = triangle_fit.nearest_templates(self.template_bank(context), images, self.top_k)
        else:
            rng = torch.Generator().manual_seed(self.seed)
            starts = triangle_fit.random_starts(len(images), self.restarts, rng).to(images.device)
        return triangle_fit.distances_to_triangles(images, starts, self.fit).cpu()

    def recall_distances(self, context: EvalContext) -> torch.Tensor:
        """(n,) float64: how closely G reproduces each of the first n reference triangles."""
        if len(context.reference) < self.n:
            raise ValueError(f"n = {self.n} is not allowed here: the reference split "
                             f"{context.reference.name}/{context.reference.split} has {len(context.reference)} images")
        targets = context.reference.batch(torch.arange(self.n))
        return invert_generator(context.generator, targets, context.sample_z, self.resolve_z_bound(context),
                                self.inversion, self.seed, context.device, self.recall_batch_size)

    def resolve_z_bound(self, context: EvalContext) -> float | None:
        """"auto": 1 when Z_BOUND_PROBE prior draws all lie in [−1, 1] (the uniform prior), else none (normal)."""
        if self.z_bound != "auto":
            return self.z_bound
        probe = context.sample_z(Z_BOUND_PROBE, torch.Generator().manual_seed(self.seed))
        return 1.0 if bool((probe.abs() <= 1).all()) else None

    def template_bank(self, context: EvalContext) -> triangle_fit.TemplateBank:
        """The grid³ template bank: built once, cached under context.cache_dir."""
        if self._bank is None:
            cache = ArrayCache(context.cache_dir)
            key = {"what": "triangles_pr template bank", "grid": self.bank_grid,
                   "raster": "compare_gan convex-polygon colab, exact", "version": 1}
            stored = cache.load("triangles_template_bank", key)
            if stored is None:
                started = time.perf_counter()
                bank = triangle_fit.build_template_bank(self.bank_grid)
                cache.save("triangles_template_bank", key, {"params": bank.params.numpy(),
                                                             "images": bank.images.numpy()})
                log.info("triangles_pr: built the %d³ template bank in %.1f s", self.bank_grid,
                         time.perf_counter() - started)
            else:
                bank = triangle_fit.TemplateBank(torch.from_numpy(stored["params"]), torch.from_numpy(stored["images"]))
            self._bank = bank
        return self._bank

    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = {
            "metric": "triangles_pr", "values": sorted(self.objectives), "note": UNVERIFIED,
            "delta": self.delta, "n": self.n, "thresholds": list(self.thresholds),
            "distance": "sum over 784 pixels of squared differences, images in [0, 1], white background = 1",
            "precision": {
                "samples": "n generated from the fixed evaluation latents (EvalContext.eval_latents)",
                "manifold": "the data set's family: (a0, a1, a2, theta) in the colab's support box, vertices on the "
                            "circle of radius 10.5 px with mean (14, 14)",
                "init": self.init, "bank_grid": self.bank_grid if self.init == "bank" else None,
                "top_k": self.top_k if self.init == "bank" else None,
                "restarts": self.restarts if self.init == "random" else None,
                "steps": self.fit.steps, "lr": self.fit.lr, "lr_schedule": _lr_schedule(self.fit.lr_floor),
                "sharpness": f"{self.fit.sharpness_start} -> {self.fit.sharpness_end} px^-1, geometric",
                "subsamples": self.fit.subsamples, "optimiser": "Adam, projection onto the box after each step",
                "scored_by": "the exact hard raster of the colab at the fitted parameters (min over starts)",
            },
            "seed": self.seed, "shown": self.shown,
        }
        if self.with_recall:
            card["recall"] = {
                "targets": "the first n images of the reference split",
                "restarts": self.inversion.restarts,
                "starts": (f"nearest of {self.inversion.pool} prior draws" if self.inversion.pool else "prior draws"),
                "steps": self.inversion.steps, "lr": self.inversion.lr,
                "lr_schedule": _lr_schedule(self.inversion.lr_floor), "optimiser": "Adam on z",
                "z_bound": self.z_bound, "scored_by": "min of ||x - G(z)||^2 over every visited z",
            }
        card.update(self.last)
        return card


def _fraction_name(side: str, threshold: float) -> str:
    return f"{side}_fraction_below_{threshold:g}".replace(".", "p")


def _lr_schedule(floor: float) -> str:
    return "constant" if floor == 1 else f"cosine decay to {floor:g} x lr"


def _fraction(name: str, value: Any) -> float:
    if not is_number(value) or not 0 <= value <= 1:
        raise ValueError(f"{name} = {value!r} is not allowed: a number in [0, 1]")
    return float(value)


def _thresholds(values: Any) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not all(is_number(v) and v > 0 for v in values):
        raise ValueError(f"thresholds = {values!r} is not allowed: a list of positive numbers")
    return tuple(sorted({float(v) for v in values}))
