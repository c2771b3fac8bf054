"""Shmelkov et al.'s data-augmentation utility ("How good is my GAN?", §5.4): a classifier trained on a real subset
plus generated images at several generated:real ratios, against the real-only baseline (ratio 0).

    python -m gan_study.study.cli.augmentation --run runs/<conditional run> --n-real 5000 --ratios 0 0.5 1 2 4 \\
        --out results/augmentation.csv

The run must be class-conditional: its generator draws a balanced set of the requested classes from its prior
(seed --seed), from its best FID evaluation when kept (else its latest). The classifier is the GAN-train / GAN-test
one (study/metrics/classifiers: Shmelkov et al.'s recipe unless --iterations / --width / --batch-size / --lr change
it), trained on the first --n-real training images plus ratio·n_real generated ones and tested on the run's
reference split. `gan-report sanity.augmentation=results/augmentation.csv` draws the `augmentation_utility` figure.
"""
from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from gan_study.study.data.image_set import ImageSet, as_unit_float
from gan_study.study.metrics.classifiers import ClassifierOptions, accuracy, train_classifier
from gan_study.study.train.trained_generator import TrainedGenerator

log = logging.getLogger("gan_study.metrics")


@torch.no_grad()
def generated_set(generator: TrainedGenerator, n: int, seed: int, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """n images of classes 0, 1, …, K−1, 0, 1, … (balanced) from the generator's prior, and their labels."""
    labels = torch.arange(n) % generator.num_classes
    z = generator.latents(n, seed)
    images = torch.cat([generator(z[i:i + batch_size], labels[i:i + batch_size]) for i in range(0, n, batch_size)])
    return images.clamp(0, 1), labels


def augmentation_curve(real: ImageSet, test: ImageSet, generator: TrainedGenerator, n_real: int,
                       ratios: Sequence[float], options: ClassifierOptions, device: torch.device,
                       seed: int = 0, run: str = "") -> list[dict[str, Any]]:
    """One row per ratio: test accuracy of a classifier trained on the first n_real real images plus
    round(ratio·n_real) generated ones (ratio 0: the real-only baseline)."""
    subset = real.head(n_real)
    resolved = options.resolved(real.shape)
    rows = []
    for ratio in ratios:
        n_generated = round(ratio * n_real)
        images, labels = as_unit_float(subset.images), subset.labels
        if n_generated:
            fake, fake_labels = generated_set(generator, n_generated, seed)
            images, labels = torch.cat([images, fake]), torch.cat([labels, fake_labels])
        network = train_classifier(images, labels, generator.num_classes, resolved, device,
                                   f"augmentation ratio {ratio} ({n_real} real + {n_generated} generated)")
        rows.append({"dataset": real.name, "run": run, "step": generator.step,
                     "n_real": n_real, "ratio": float(ratio), "n_generated": n_generated,
                     "test_images": len(test), "architecture": resolved.architecture,
                     "accuracy": accuracy(network, test.images, test.labels, device)})
        log.info("augmentation ratio %g: accuracy %.4f", ratio, rows[-1]["accuracy"])
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_study.study.cli.augmentation",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a class-conditional run folder (with generators/ or checkpoint.pt)")
    parser.add_argument("--n-real", type=int, required=True, help="real training images (the first n of the split)")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0, 0.5, 1, 2, 4],
                        help="generated:real ratios; 0 (the real-only baseline) is always added")
    parser.add_argument("--data-root", default=os.environ.get("GAN_STUDY_DATA", "data"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0, help="latents of the generated images")
    parser.add_argument("--iterations", type=int, default=None, help="classifier SGD steps (default: 64k)")
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--out", required=True, help="CSV file of the curve")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = _parser().parse_args(argv)
    from gan_study.study.data import load_dataset
    from gan_study.study.train.run import resolve_device
    from gan_study.study.train.trained_generator import generator_file

    try:  # everything is checked before any classifier is trained
        if any(ratio < 0 for ratio in args.ratios):
            raise ValueError(f"--ratios {args.ratios}: not allowed: ratios >= 0")
        ratios = sorted({0.0, *args.ratios})
        options = ClassifierOptions.from_options({"iterations": args.iterations, "width": args.width,
                                                  "batch_size": args.batch_size, "lr": args.lr})
        device = resolve_device(args.device)
        path = generator_file(args.run, "fid")
        if path is None:
            raise FileNotFoundError(f"--run {args.run}: no run folder with a kept generator")
        generator = TrainedGenerator(path, "fid")
        if generator.num_classes is None:
            raise ValueError(f"--run {args.run}: not allowed: the run is not class-conditional "
                             "(conditional.enabled=false); generated images need labels")
        data = generator.config.dataset
        real = load_dataset(data.name, args.data_root, data.train_split)
        test = load_dataset(data.name, args.data_root, data.reference_split)
        if not 2 <= args.n_real <= len(real):
            raise ValueError(f"--n-real {args.n_real} is not allowed: between 2 and the {len(real)} images of "
                             f"{real.name}/{real.split}")
    except (ValueError, FileNotFoundError) as error:
        print(f"augmentation: {error}", file=sys.stderr)
        return 2
    rows = augmentation_curve(real, test, generator, args.n_real, ratios, options, device, args.seed, Path(args.run).name)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"augmentation: {len(rows)} ratios -> {out}")
    for row in rows:
        print(f"  ratio {row['ratio']:g} ({row['n_real']} real + {row['n_generated']} generated): "
              f"accuracy {row['accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
