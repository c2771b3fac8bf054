"""The paper's FID sanity experiments (paper_spec §6.3), as Python functions and `gan-fid-experiments`.

- bias/variance ("Table 2"): FID between the first n test images and n random training images, `draws`
  times → per-draw values, mean and sd. The paper: 10k vs 10k, M = 50 draws.
- split sensitivity: every image of the data set (train + test) randomly partitioned 6:1, `draws` times; one
  FID per partition between n images of each part (the reference moves too, unlike bias/variance).
- mode dropping: X1 = the reference (test) split, X2 = the training split restricted to its first k
  classes, k = 1..10; `repeats` random subsamples of n per k → FID (and IS: it barely moves).
- encoder sensitivity: FID of a set of generators under two encoders (Inception pool3, VGG-16 FC7)
  and the Spearman rank correlation of the two columns (the paper: ρ ≈ 0.9).

Every table is a CSV. Features of each image pool are computed once per experiment; the reference
statistics come from the same disk cache as training-time FID.
"""
from __future__ import annotations

import argparse
import csv
import logging
import os
import statistics as stats
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from gan_study.study.data.image_set import ImageSet
from gan_study.study.metrics.encoders import Encoded, EncoderSetup, FeatureExtractor, build_encoder
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


def _check_sizes(name: str, n: int, available: int, what: str) -> None:
    if not 2 <= n <= available:
        raise ValueError(f"{name}: n = {n} is not allowed: between 2 and the {available} images of {what}")


def bias_variance(setup: FIDSetup, reference: ImageSet, pool: ImageSet, n: int, draws: int,
                  seed: int = 0) -> list[dict[str, Any]]:
    """FID between the first n of `reference` and n images drawn without replacement from `pool`, `draws` times."""
    _check_sizes("bias_variance", n, len(reference), f"{reference.name}/{reference.split}")
    _check_sizes("bias_variance", n, len(pool), f"{pool.name}/{pool.split}")
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
    _check_sizes("split_sensitivity", n, small, f"the small part of a {ratio}:1 partition of {total} images")
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
    _check_sizes("mode_dropping", n, len(reference), f"{reference.name}/{reference.split}")
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


def best_generator(run_dir: Path, metric: str = "fid") -> Path:
    """The kept generator of a finished run's best `metric` evaluation (record.json's best_step)."""
    from gan_study.study.train.checkpoint import generator_path
    from gan_study.study.train.record import RunRecord

    record = run_dir / "record.json"
    if not record.exists():
        raise FileNotFoundError(f"{run_dir}: no record.json, so no best generator (an unfinished run has only its "
                                "checkpoint: use --checkpoint last)")
    best_step = RunRecord.read(record).best_step
    if metric not in best_step:
        raise ValueError(f"{run_dir}: --metric {metric!r} was not evaluated; its record has a best step of "
                         f"{sorted(best_step)}")
    path = generator_path(run_dir / "generators", int(best_step[metric]))
    if not path.exists():
        raise FileNotFoundError(f"{run_dir}: the generator of its best {metric} evaluation ({path}) is not there")
    return path


def generator_from_run(run_dir: Path | str, device: torch.device, eval_seed: int | None = None,
                       checkpoint: str = "last", metric: str = "fid") -> GeneratorSource:
    """The run folder's generator, with the run's own evaluation latents (eval.seed): `last`, its latest (its
    checkpoint, or its last kept generator once finished), or `best`, the one of its best `metric` evaluation."""
    from gan_study.models.losses import get_loss
    from gan_study.study.train.checkpoint import last_generator
    from gan_study.study.train.run import make_prior

    run_dir = Path(run_dir)
    if checkpoint not in ("best", "last"):
        raise ValueError(f"checkpoint = {checkpoint!r} is not allowed: 'best' or 'last'")
    source = best_generator(run_dir, metric) if checkpoint == "best" else last_generator(run_dir)
    state = torch.load(source, map_location=device, weights_only=False)
    cfg = state["config"]
    model, data, train = cfg["model"], cfg["dataset"], cfg["train"]
    loss = get_loss(model["name"])(**model["loss_params"])
    nets = loss.build_networks(tuple(data["image_shape"]), train["z_dim"], model["discriminator_batchnorm"],
                               model["generator_activation"])
    generator = nets.generator.to(device)
    generator.load_state_dict(state["generator"])
    generator.eval()
    seed = cfg["eval"]["seed"] if eval_seed is None else eval_seed
    prior = make_prior(loss.prior, train["z_dim"], torch.device("cpu"))
    return GeneratorSource(f"{run_dir.name} (step {state['step']})", generator,
                           lambda n: prior(n, torch.Generator().manual_seed(seed)))


def encoder_sensitivity(setups: dict[str, FIDSetup], reference: ImageSet, generators: Sequence[GeneratorSource],
                        n: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """FID of every generator under every encoder (one row per generator), and the Spearman ρ between the
    first two encoders' FID columns."""
    from scipy.stats import spearmanr

    from gan_study.study.metrics.features import encode_generator

    if len(setups) < 2 or len(generators) < 3:
        raise ValueError(f"encoder_sensitivity needs >= 2 encoders and >= 3 generators, got {len(setups)} and "
                         f"{len(generators)}")
    _check_sizes("encoder_sensitivity", n, len(reference), f"{reference.name}/{reference.split}")
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


def write_csv(rows: list[dict[str, Any]], path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


# -- command line -----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gan-fid-experiments", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="experiment", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dataset", required=True)
    common.add_argument("--data-root", default=os.environ.get("GAN_STUDY_DATA", "data"),
                        help="as gan-train's data_root (default: $GAN_STUDY_DATA, else data)")
    common.add_argument("--cache-dir", default=os.environ.get("GAN_STUDY_CACHE", ".gan-study/cache"),
                        help="as gan-train's cache_dir (default: $GAN_STUDY_CACHE, else .gan-study/cache)")
    common.add_argument("--device", default="auto")
    common.add_argument("--n", type=int, default=10000, help="images per side (the paper: 10000)")
    common.add_argument("--batch-size", type=int, default=100)
    common.add_argument("--seed", type=int, default=0)
    common.add_argument("--out", required=True, help="CSV file of the per-draw table")
    common.add_argument("--weights-path", default=None, help="folder (or file) searched before torch hub's cache")
    encoder = argparse.ArgumentParser(add_help=False)
    encoder.add_argument("--encoder", default="inception")
    bias = sub.add_parser("bias-variance", parents=[common, encoder], help="FID between real splits")
    bias.add_argument("--draws", type=int, default=50)
    split = sub.add_parser("split-sensitivity", parents=[common, encoder],
                           help="FID between the parts of random 6:1 partitions of all images")
    split.add_argument("--draws", type=int, default=50, help="partitions, one FID each (the paper: 50)")
    split.add_argument("--ratio", type=int, default=6, help="large part : small part (the paper: 6)")
    drop = sub.add_parser("mode-dropping", parents=[common, encoder], help="FID of the first k classes")
    drop.add_argument("--k", type=int, nargs="+", default=list(range(1, 11)))
    drop.add_argument("--repeats", type=int, default=50)
    sens = sub.add_parser("encoder-sensitivity", parents=[common], help="Inception vs VGG FID rankings")
    sens.add_argument("--runs", nargs="+", required=True, help="run folders (with checkpoint.pt or generators/)")
    sens.add_argument("--encoders", nargs=2, default=["inception", "vgg16_fc7"])
    sens.add_argument("--checkpoint", choices=["best", "last"], default="best",
                      help="each run's generator of its best --metric evaluation (default), or its latest")
    sens.add_argument("--metric", default="fid", help="the value whose best evaluation --checkpoint best takes")
    return parser


def _setup(name: str, args: argparse.Namespace, device: torch.device) -> FIDSetup:
    from gan_study.study.data import load_dataset

    options = {"weights_path": args.weights_path} if args.weights_path else {}
    encoder = build_encoder(name, **options)
    encoder.prepare(EncoderSetup(device, Path(args.cache_dir), args.dataset,
                                 lambda: load_dataset(args.dataset, args.data_root, "train")))
    return FIDSetup(encoder, device, Path(args.cache_dir), args.batch_size)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = _parser().parse_args(argv)
    from gan_study.study.data import load_dataset
    from gan_study.study.train.run import resolve_device

    try:  # the device, the data and the sizes first: nothing is loaded or trained for a command that cannot run
        missing = [run for run in getattr(args, "runs", None) or [] if not Path(run).is_dir()]
        if missing:
            raise FileNotFoundError(f"--runs: {', '.join(missing)}: no such run folder")
        device = resolve_device(args.device)
        reference = load_dataset(args.dataset, args.data_root, "test")
        pool = None if args.experiment == "encoder-sensitivity" else load_dataset(args.dataset, args.data_root, "train")
        _check_sizes(args.experiment, args.n, len(reference), f"{reference.name}/{reference.split}")
        if args.experiment == "bias-variance":
            _check_sizes(args.experiment, args.n, len(pool), f"{pool.name}/{pool.split}")
        if args.experiment == "split-sensitivity":
            if args.ratio < 1:
                raise ValueError(f"--ratio = {args.ratio} is not allowed: an integer >= 1 (the paper: 6)")
            total = len(pool) + len(reference)
            _check_sizes(args.experiment, args.n, total // (args.ratio + 1),
                         f"the small part of a {args.ratio}:1 partition of {total} images")
        encoders = args.encoders if args.experiment == "encoder-sensitivity" else [args.encoder]
        setups = {name: _setup(name, args, device) for name in encoders}
        generators = [generator_from_run(run, device, checkpoint=args.checkpoint, metric=args.metric)
                      for run in getattr(args, "runs", None) or []]
    except (ValueError, FileNotFoundError) as error:  # a bad value; a missing data set, weight file or run folder
        print(f"gan-fid-experiments: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.experiment == "encoder-sensitivity":
        rows, summary = encoder_sensitivity(setups, reference, generators, args.n)
        summaries = [summary]
    elif args.experiment == "bias-variance":
        rows = bias_variance(setups[args.encoder], reference, pool, args.n, args.draws, args.seed)
        summaries = summarize(rows, "fid", ["dataset", "encoder", "n"])
    elif args.experiment == "split-sensitivity":
        rows = split_sensitivity(setups[args.encoder], reference, pool, args.n, args.draws, args.ratio, args.seed)
        summaries = summarize(rows, "fid", ["dataset", "encoder", "n"])
    else:
        rows = mode_dropping(setups[args.encoder], reference, pool, args.n, args.k, args.repeats, args.seed)
        summaries = summarize(rows, "fid", ["dataset", "encoder", "n", "k"])
    write_csv(rows, out)
    summary_path = write_csv(summaries, out.with_name(out.stem + "_summary.csv"))
    print(f"{args.experiment}: {len(rows)} rows -> {out}; summary -> {summary_path}")
    for row in summaries:
        print("  " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
