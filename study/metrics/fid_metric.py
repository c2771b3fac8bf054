"""`eval.metrics.fid`: FID, and optionally the Inception Score and KID, from ONE feature pass.

One registered metric produces all three because they share the expensive part (encoding 10k generated
images): `fid: {inception_score: true, kid: true}` adds `is` and `kid` at no extra network cost, `fid_5k: true`
adds SNGAN's FID-5K, and `measures: {precision_recall: {}, prd: {}, swd: {}, ...}` adds the measures of
`measures.py` (precision/recall, density/coverage, PRD, memorisation, SWD) from the same pass.
Defaults are the paper's protocol (docs/protocol.md#fid-protocol): the FID Inception's pool3, 10k generated images
from the fixed evaluation latents vs the first 10k of the reference split, float images fed
unquantised. With another encoder (`encoder: vgg16_fc7 | domain_classifier`) the values are named
`fid_<encoder>`, `is_<encoder>`, `kid_<encoder>`, so they can never be mistaken for the paper's FID.
"""
from __future__ import annotations

import functools
import inspect
import math
from pathlib import Path
from typing import Any, Callable

import torch

from gan_study.models.checks import flag, integer
from gan_study.study.data import ImageSet, load_dataset
from gan_study.study.metrics.base import EvalContext, Metric
from gan_study.study.metrics.encoders import EncoderSetup, build_encoder
from gan_study.study.metrics.features import encode_generator
from gan_study.study.metrics import memorisation, precision_recall, prd, swd  # noqa: F401  (measures register)
from gan_study.study.metrics.fid import frechet_distance, frechet_distance_with_sqrt
from gan_study.study.metrics.inception_score import inception_score
from gan_study.study.metrics.kid import kernel_inception_distance
from gan_study.study.metrics.measures import MeasureInputs, build_measures
from gan_study.study.metrics.reference import Reference, ReferenceCache
from gan_study.study.metrics.registry import register_metric
from gan_study.study.metrics.statistics import FeatureStatistics
from gan_study.study.package_versions import package_versions

KID_SEED = 0
FID_5K = 5000
"""FID-5K (Miyato et al., SNGAN, ICLR 2018; Shmelkov et al.'s tables): the first 5k generated vs the first 5k real."""
LIBRARIES = ("torch", "torchvision", "pytorch-fid", "numpy", "scipy")


@register_metric("fid")
class FID(Metric):
    """Options: encoder, encoder_options, n_real, n_generated, batch_size (encoder batch; results do not
    depend on it), quantize, inception_score, is_splits, kid, kid_subsets, kid_subset_size, fid_5k, measures."""

    objectives = {"fid": "minimize", "is": "maximize", "kid": "minimize"}

    def __init__(self, encoder: str = "inception", encoder_options: dict | None = None, n_real: int = 10000,
                 n_generated: int = 10000, batch_size: int = 100, quantize: bool = False,
                 inception_score: bool = False, is_splits: int = 1, kid: bool = False, kid_subsets: int = 100,
                 kid_subset_size: int = 1000, fid_5k: bool = False, measures: dict | None = None, **unknown: Any):
        if unknown:
            allowed = [name for name in inspect.signature(FID.__init__).parameters if name not in ("self", "unknown")]
            raise ValueError(f"unknown option(s) {sorted(unknown)}; allowed: {allowed}")
        self.encoder = build_encoder(encoder, **dict(encoder_options or {}))
        self.n_real = integer("n_real", n_real, 2)
        self.n_generated = integer("n_generated", n_generated, 2)
        self.batch_size = integer("batch_size", batch_size, 1)
        self.quantize = flag("quantize", quantize)
        self.with_is = flag("inception_score", inception_score)
        self.is_splits = integer("is_splits", is_splits, 1)
        self.with_kid = flag("kid", kid)
        self.kid_subsets = integer("kid_subsets", kid_subsets, 1)
        self.kid_subset_size = integer("kid_subset_size", kid_subset_size, 2)
        if self.with_is and not self.encoder.has_logits:
            raise ValueError(f"inception_score = true is not allowed with encoder {encoder!r}: it has no class logits")
        if self.with_is and self.is_splits > self.n_generated:
            raise ValueError(f"is_splits = {is_splits} is not allowed: at most n_generated = {n_generated}")
        if self.with_kid and self.kid_subset_size > min(self.n_real, self.n_generated):
            raise ValueError(f"kid_subset_size = {kid_subset_size} is not allowed: at most "
                             f"min(n_real, n_generated) = {min(self.n_real, self.n_generated)}")
        self.with_fid_5k = flag("fid_5k", fid_5k)
        if self.with_fid_5k and min(self.n_real, self.n_generated) < FID_5K:
            raise ValueError(f"fid_5k = true is not allowed with n_real = {n_real}, n_generated = {n_generated}: "
                             f"both must be >= {FID_5K}")
        self.measures = build_measures(measures)
        suffix = "" if encoder == "inception" else f"_{encoder}"
        self.suffix = suffix
        self.names = {"fid": f"fid{suffix}", "is": f"is{suffix}", "kid": f"kid{suffix}", "fid_5k": f"fid_5k{suffix}"}
        wanted = {"fid": True, "is": self.with_is, "kid": self.with_kid, "fid_5k": self.with_fid_5k}
        self.objectives = {self.names[k]: direction for k, direction in
                           {**FID.objectives, "fid_5k": "minimize"}.items() if wanted[k]}
        for measure in self.measures.values():
            self.objectives.update({self._measure_value(measure, name): direction
                                    for name, direction in measure.objectives.items()})
        self.references: dict[str, ReferenceCache] = {}
        self.last: dict[str, Any] = {}

    def _reference(self, context: EvalContext) -> Reference:
        cache = self.references.setdefault(str(context.cache_dir), ReferenceCache(context.cache_dir))
        return cache.get(context.reference.head(self.n_real), self.encoder, context.device, self.batch_size,
                         need_features=self.with_kid or self.with_fid_5k or bool(self.measures))

    def _measure_value(self, measure, name: str) -> str:
        return name + self.suffix if measure.feature_based else name

    def _training_split(self, context: EvalContext) -> Callable[[int | None], tuple[torch.Tensor, ImageSet]]:
        """`train(n)`: features of the first n training images (None: all), by the same cached encoder pass."""

        def train(n: int | None) -> tuple[torch.Tensor, ImageSet]:
            if context.data_root is None:
                raise ValueError("measures.memorisation needs the training split, but this evaluation has no data root "
                                 "(EvalContext.data_root)")
            images = load_dataset(context.dataset_name, context.data_root, "train")
            images = images if n is None else images.head(min(n, len(images)))
            cache = self.references.setdefault(str(context.cache_dir), ReferenceCache(context.cache_dir))
            reference = cache.get(images, self.encoder, context.device, self.batch_size, need_features=True)
            return reference.features, images

        return train

    def _measure_inputs(self, context: EvalContext, reference: Reference, generated: torch.Tensor,
                        kept: list[torch.Tensor]) -> MeasureInputs:
        @torch.no_grad()
        def generated_images(indices: torch.Tensor) -> torch.Tensor:
            latents = context.eval_latents(self.n_generated)[indices.cpu()]
            return context.generator(latents.to(context.device)).float().cpu()

        artefacts = None if context.run_dir is None else Path(context.run_dir) / "measures"
        return MeasureInputs(real=reference.features.to(context.device), fake=generated.to(context.device),
                             real_images=context.reference.head(self.n_real),
                             fake_images=torch.cat(kept) if kept else None, generated_images=generated_images,
                             train=self._training_split(context), artefacts=artefacts)

    def _setup(self, context: EvalContext) -> EncoderSetup:
        train_set = None if context.data_root is None else functools.partial(
            load_dataset, context.dataset_name, context.data_root, "train")
        return EncoderSetup(context.device, context.cache_dir, context.dataset_name, train_set)

    def evaluate(self, context: EvalContext) -> dict[str, float]:
        self.encoder.prepare(self._setup(context))
        reference = self._reference(context)
        kept: list[torch.Tensor] | None = [] if any(m.needs_images for m in self.measures.values()) else None
        generated = encode_generator(self.encoder, context.generator, context.eval_latents(self.n_generated),
                                     context.device, self.batch_size, self.quantize, keep_images=kept)
        self.last = {"reference": reference, "eval_seed": context.eval_seed, "device": str(context.device)}
        if not bool(torch.isfinite(generated.features).all()):
            return {name: math.nan for name in self.objectives}  # recorded as a divergence by the training loop
        values: dict[str, float] = {}
        fake = FeatureStatistics.of(generated.features.to(context.device))
        real = reference.statistics
        values[self.names["fid"]] = frechet_distance_with_sqrt(real.mean, real.covariance, real.covariance_root,
                                                               fake.mean, fake.covariance, context.device)
        if self.with_is:
            mean, sd = inception_score(generated.logits, self.is_splits)
            values[self.names["is"]] = mean
            if self.is_splits > 1:
                values[self.names["is"] + "_std"] = sd
        if self.with_kid:
            mean, sd = kernel_inception_distance(reference.features.to(context.device),
                                                 generated.features.to(context.device),
                                                 self.kid_subsets, self.kid_subset_size, KID_SEED)
            values[self.names["kid"]] = mean
            if self.kid_subsets > 1:
                values[self.names["kid"] + "_std"] = sd
        if self.with_fid_5k:
            real_5k = FeatureStatistics.of(reference.features[:FID_5K].to(context.device))
            fake_5k = FeatureStatistics.of(generated.features[:FID_5K].to(context.device))
            values[self.names["fid_5k"]] = frechet_distance(real_5k.mean, real_5k.covariance, fake_5k.mean,
                                                            fake_5k.covariance, context.device)
        if self.measures:
            inputs = self._measure_inputs(context, reference, generated.features, kept or [])
            for measure in self.measures.values():
                values.update({self._measure_value(measure, name): value
                               for name, value in measure.evaluate(inputs).items()})
        return values

    def preflight(self) -> None:
        self.encoder.preflight()

    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = {
            "metric": "fid", "values": sorted(self.objectives),
            "n_real": self.n_real, "n_generated": self.n_generated,
            "generated_from": "the fixed evaluation latents (EvalContext.eval_latents), same at every evaluation",
            "quantize": ("generated images rounded to 8-bit levels before the network" if self.quantize
                         else "none: generated float images fed as they are (the paper)"),
            "dtype": "float32 features (TF32 off), float64 mean/covariance (1/(n-1)) and distance",
            "sqrt_method": "F = Cholesky factor of cov_real (symmetric root by eigh if singular), cached; "
                           "Tr sqrt(cov_real cov_gen) = sum sqrt(eigenvalues of F^T cov_gen F) (LAPACK dsyevr on CPU, "
                           "torch eigvalsh on GPU), float64, negative eigenvalues clamped to 0",
            "encoder_batch_size": self.batch_size,
            "library_versions": package_versions(LIBRARIES),
        }
        card["protocols"] = {self.names["fid"]: f"{self.n_generated} generated vs the first {self.n_real} reference "
                                                f"images" + (" (the paper)" if (self.n_real, self.n_generated) ==
                                                             (10000, 10000) else "")}
        if self.with_fid_5k:
            card["protocols"][self.names["fid_5k"]] = (f"FID-5K (Miyato et al. 2018): the first {FID_5K} generated vs "
                                                       f"the first {FID_5K} reference images of the same pass")
        if self.with_is:
            split_size = self.n_generated // self.is_splits
            card["inception_score"] = {"splits": self.is_splits, "from": "the same pass's logits"}
            card["protocols"][self.names["is"]] = (
                f"mean (and population sd, {self.names['is']}_std) over {self.is_splits} contiguous splits of "
                f"~{split_size} images" if self.is_splits > 1 else f"one split of all {self.n_generated} images"
            ) + (" (Salimans et al.: 10 splits of 5000)" if (self.is_splits, split_size) == (10, 5000) else
                 " (the paper: one split)" if self.is_splits == 1 else "")
        if self.with_kid:
            card["kid"] = {"kernel": "(x.y/d + 1)^3", "estimator": "unbiased MMD^2", "subsets": self.kid_subsets,
                           "subset_size": self.kid_subset_size, "subset_seed": KID_SEED}
        if self.measures:
            card["measures"] = {name: measure.card() for name, measure in self.measures.items()}
        if not self.last:
            card["encoder"] = self.encoder.name
            return card
        reference: Reference = self.last["reference"]
        card.update(self.encoder.card())
        card.update({"reference": {"dataset": reference.key["dataset"], "split": reference.key["split"],
                                   "first_n": reference.key["n"], "images_sha256": reference.key["data_sha256"]},
                     "reference_statistics_file": str(reference.statistics_file),
                     "eval_seed": self.last["eval_seed"], "device": self.last["device"]})
        return card
