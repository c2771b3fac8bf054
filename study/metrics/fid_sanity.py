"""The paper's FID sanity experiments (docs/protocol.md#fid-sanity-experiments), on image sets and prepared encoders.

- bias/variance ("Table 2"): FID between the first n test images and n random training images, `draws`
  times → per-draw values, mean and sd. The paper: 10k vs 10k, M = 50 draws.
- split sensitivity: every image of the data set (train + test) randomly partitioned 6:1, `draws` times; one
  FID per partition between n images of each part (the reference moves too, unlike bias/variance).
- mode dropping: X1 = the reference (test) split, X2 = the training split restricted to its first k
  classes, k = 1..10; `repeats` random subsamples of n per k → FID (and IS: it barely moves).
- encoder sensitivity: FID of a set of generators under two encoders (Inception pool3, VGG-16 FC7)
  and the Spearman rank correlation of the two columns (the paper: ρ ≈ 0.9).

Each experiment returns its table as rows (dicts). Features of each image pool are computed once per
experiment; the reference statistics come from the same disk cache as training-time FID.
`gan-fid-experiments` (study/cli/fid_experiments.py) runs them from the command line.
"""
from __future__ import annotations

import logging
import statistics as stats
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from gan_study.study.data.image_set import ImageSet
from gan_study.study.metrics.encoders import Encoded, FeatureExtractor
from gan_study.study.metrics.features import encode_images
from gan_study.study.metrics.fid import frechet_distance, frechet_distance_with_sqrt
from gan_study.study.metrics.inception_score import inception_score
from gan_study.study.metrics.reference import Reference, ReferenceCache
from gan_study.study.metrics.statistics import FeatureStatistics

log = logging.getLogger("gan_study.metrics")


@dataclass
class FIDSetup:
    """What every experiment shares: the prepared encoder, where to run, where reference statistics are cached."""

    encoder: FeatureExtractor
    device: torch.device
    cache_dir: Path
    batch_size: int = 100

    def reference(self, images: ImageSet) -> Reference:
        return ReferenceCache(self.cache_dir).get(images, self.encoder, self.device, self.batch_size, False)

    def encode(self, images: ImageSet) -> Encoded:
        return encode_images(self.encoder, images.images, self.device, self.batch_size, f"{images.name}/{images.split}")

    def fid(self, reference: Reference, features: torch.Tensor) -> float:
        real, fake = reference.statistics, FeatureStatistics.of(features.to(self.device))
        return frechet_distance_with_sqrt(real.mean, real.covariance, real.covariance_root, fake.mean,
                                          fake.covariance, self.device)


def check_sample_size(name: str, n: int, available: int, what: str) -> None:
    if not 2 <= n <= available:
        raise ValueError(f"{name}: n = {n} is not allowed: between 2 and the {available} images of {what}")


def bias_variance(setup: FIDSetup, reference: ImageSet, pool: ImageSet, n: int, draws: int,
                  seed: int = 0) -> list[dict[str, Any]]:
    """FID between the first n of `reference` and n images drawn without replacement from `pool`, `draws` times."""
    check_sample_size("bias_variance", n, len(reference), f"{reference.name}/{reference.split}")
    check_sample_size("bias_variance", n, len(pool), f"{pool.name}/{pool.split}")
    real = setup.reference(reference.head(n))
    features = setup.encode(pool).features
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for draw in range(draws):
        picked = torch.randperm(len(pool), generator=generator)[:n]
        rows.append({"dataset": reference.name, "encoder": setup.encoder.identity, "n": n, "draw": draw,
                     "reference": f"{reference.split}[:{n}]", "sample": f"{pool.split} random {n}",
                     "fid": setup.fid(real, features[picked])})
        log.info("bias/variance draw %d/%d: FID %.4f", draw + 1, draws, rows[-1]["fid"])
    return rows


def split_sensitivity(setup: FIDSetup, reference: ImageSet, pool: ImageSet, n: int, draws: int, ratio: int = 6,
                      seed: int = 0) -> list[dict[str, Any]]:
    """FID between the two parts of `draws` random ratio:1 partitions of `pool` + `reference`: the first n of the
    small part against the first n of the large part, one draw per partition."""
    if not isinstance(ratio, int) or ratio < 1:
        raise ValueError(f"split_sensitivity: ratio = {ratio!r} is not allowed: an integer >= 1 (the paper: 6)")
    features = torch.cat([setup.encode(pool).features, setup.encode(reference).features])
    total = len(features)
    small = total // (ratio + 1)
    check_sample_size("split_sensitivity", n, small, f"the small part of a {ratio}:1 partition of {total} images")
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for draw in range(draws):
        order = torch.randperm(total, generator=generator)
        parts = [FeatureStatistics.of(features[index].to(setup.device)) for index in (order[:n], order[small:small + n])]
        rows.append({"dataset": reference.name, "encoder": setup.encoder.identity, "n": n, "draw": draw,
                     "partition": f"{ratio}:1 of {pool.split} + {reference.split} ({total})",
                     "fid": frechet_distance(parts[0].mean, parts[0].covariance, parts[1].mean, parts[1].covariance,
                                             setup.device)})
        log.info("split sensitivity partition %d/%d: FID %.4f", draw + 1, draws, rows[-1]["fid"])
    return rows


def summarize(rows: list[dict[str, Any]], value: str, by: Sequence[str]) -> list[dict[str, Any]]:
    """Mean and sample sd (n − 1) of `value` per group of the `by` columns."""
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in by), []).append(row[value])
    return [{**dict(zip(by, group)), "count": len(values), f"{value}_mean": stats.fmean(values),
             f"{value}_sd": stats.stdev(values) if len(values) > 1 else 0.0}
            for group, values in groups.items()]


def mode_dropping(setup: FIDSetup, reference: ImageSet, pool: ImageSet, n: int, ks: Sequence[int],
                  repeats: int, seed: int = 0) -> list[dict[str, Any]]:
    """For each k, `repeats` subsamples of n images of the first k classes of `pool` against the first n of
    `reference`. Sampling is without replacement unless the k classes hold fewer than n images (recorded)."""
    if pool.labels is None:
        raise ValueError(f"mode_dropping needs class labels; {pool.name}/{pool.split} has none")
    classes = torch.unique(pool.labels).tolist()
    for k in ks:
        if not 1 <= k <= len(classes):
            raise ValueError(f"mode_dropping: k = {k} is not allowed: between 1 and the {len(classes)} classes")
    check_sample_size("mode_dropping", n, len(reference), f"{reference.name}/{reference.split}")
    real = setup.reference(reference.head(n))
    encoded = setup.encode(pool)
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for k in ks:
        kept = torch.nonzero(torch.isin(pool.labels, torch.tensor(classes[:k]))).flatten()
        with_replacement = len(kept) < n
        for repeat in range(repeats):
            if with_replacement:
                picked = kept[torch.randint(len(kept), (n,), generator=generator)]
            else:
                picked = kept[torch.randperm(len(kept), generator=generator)[:n]]
            row = {"dataset": reference.name, "encoder": setup.encoder.identity, "n": n, "k": k, "repeat": repeat,
                   "classes": " ".join(str(c) for c in classes[:k]), "pool_size": len(kept),
                   "with_replacement": with_replacement, "fid": setup.fid(real, encoded.features[picked])}
            if encoded.logits is not None:
                row["is"] = inception_score(encoded.logits[picked])[0]
            rows.append(row)
        log.info("mode dropping k=%d: mean FID %.4f over %d repeats", k,
                 stats.fmean(r["fid"] for r in rows if r["k"] == k), repeats)
    return rows


@dataclass
class GeneratorSource:
    """A trained generator to score: a callable latents → [0, 1] images, and its fixed evaluation latents."""

    name: str
    generator: Callable[[torch.Tensor], torch.Tensor]
    eval_latents: Callable[[int], torch.Tensor]


def encoder_sensitivity(setups: dict[str, FIDSetup], reference: ImageSet, generators: Sequence[GeneratorSource],
                        n: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """FID of every generator under every encoder (one row per generator), and the Spearman ρ between the
    first two encoders' FID columns."""
    from scipy.stats import spearmanr

    from gan_study.study.metrics.features import encode_generator

    if len(setups) < 2 or len(generators) < 3:
        raise ValueError(f"encoder_sensitivity needs >= 2 encoders and >= 3 generators, got {len(setups)} and "
                         f"{len(generators)}")
    check_sample_size("encoder_sensitivity", n, len(reference), f"{reference.name}/{reference.split}")
    rows = []
    references = {name: setup.reference(reference.head(n)) for name, setup in setups.items()}
    for source in generators:
        row: dict[str, Any] = {"generator": source.name}
        for name, setup in setups.items():
            features = encode_generator(setup.encoder, source.generator, source.eval_latents(n), setup.device,
                                        setup.batch_size, quantize=False, what=source.name).features
            row[f"fid_{name}"] = setup.fid(references[name], features)
        rows.append(row)
        log.info("encoder sensitivity: %s", row)
    first, second = list(setups)[:2]
    rho = spearmanr([r[f"fid_{first}"] for r in rows], [r[f"fid_{second}"] for r in rows]).statistic
    return rows, {"encoders": f"{first} vs {second}", "generators": len(rows), "n": n, "spearman_rho": float(rho)}
