"""The paper's FID sanity experiments from the command line: `gan-fid-experiments`.

The experiments themselves are study/metrics/fid_sanity.py; this module parses the options, loads the data,
the encoders and the run folders' generators, runs one experiment and writes its per-draw table and its
summary as CSV files.
"""
from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from gan_study.study.metrics.encoders import EncoderSetup, build_encoder
from gan_study.study.metrics.fid_sanity import (FIDSetup, bias_variance, check_sample_size, encoder_sensitivity,
                                                mode_dropping, split_sensitivity, summarize)


def write_csv(rows: list[dict[str, Any]], path: Path | str) -> Path:
    """The rows as a CSV table (columns: every key, in first-seen order); also the other commands' table writer."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


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
    from gan_study.study.train.trained_generator import generator_from_run

    try:  # the device, the data and the sizes first: nothing is loaded or trained for a command that cannot run
        missing = [run for run in getattr(args, "runs", None) or [] if not Path(run).is_dir()]
        if missing:
            raise FileNotFoundError(f"--runs: {', '.join(missing)}: no such run folder")
        device = resolve_device(args.device)
        reference = load_dataset(args.dataset, args.data_root, "test")
        pool = None if args.experiment == "encoder-sensitivity" else load_dataset(args.dataset, args.data_root, "train")
        check_sample_size(args.experiment, args.n, len(reference), f"{reference.name}/{reference.split}")
        if args.experiment == "bias-variance":
            check_sample_size(args.experiment, args.n, len(pool), f"{pool.name}/{pool.split}")
        if args.experiment == "split-sensitivity":
            if args.ratio < 1:
                raise ValueError(f"--ratio = {args.ratio} is not allowed: an integer >= 1 (the paper: 6)")
            total = len(pool) + len(reference)
            check_sample_size(args.experiment, args.n, total // (args.ratio + 1),
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
