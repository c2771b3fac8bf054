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
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from gan_study.study.data.image_set import ImageSet, as_unit_float
from gan_study.study.cli.fid_experiments import write_csv
from gan_study.study.cli.run_commands import add_run_arguments, classifier_options, load_run
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
    add_run_arguments(parser)
    parser.add_argument("--n-real", type=int, required=True, help="real training images (the first n of the split)")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0, 0.5, 1, 2, 4],
                        help="generated:real ratios; 0 (the real-only baseline) is always added")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = _parser().parse_args(argv)
    from gan_study.study.train.run import resolve_device

    try:  # everything is checked before any classifier is trained
        if any(ratio < 0 for ratio in args.ratios):
            raise ValueError(f"--ratios {args.ratios}: not allowed: ratios >= 0")
        ratios = sorted({0.0, *args.ratios})
        options = classifier_options(args)
        device = resolve_device(args.device)
        generator, real, test = load_run(args.run, args.data_root)
        if generator.num_classes is None:
            raise ValueError(f"--run {args.run}: not allowed: the run is not class-conditional "
                             "(conditional.enabled=false); generated images need labels")
        if not 2 <= args.n_real <= len(real):
            raise ValueError(f"--n-real {args.n_real} is not allowed: between 2 and the {len(real)} images of "
                             f"{real.name}/{real.split}")
    except (ValueError, FileNotFoundError) as error:
        print(f"augmentation: {error}", file=sys.stderr)
        return 2
    rows = augmentation_curve(real, test, generator, args.n_real, ratios, options, device, args.seed, Path(args.run).name)
    out = write_csv(rows, args.out)
    print(f"augmentation: {len(rows)} ratios -> {out}")
    for row in rows:
        print(f"  ratio {row['ratio']:g} ({row['n_real']} real + {row['n_generated']} generated): "
              f"accuracy {row['accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
