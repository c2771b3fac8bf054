"""Real labelled images offline: scikit-learn's copy of the UCI handwritten digits, written as MNIST IDX files.

1,797 8×8 digits (values 0..16, 10 classes) are scaled to 0..255, resized bilinearly to 20×20 and centred
in 28×28 with a 4-pixel border (MNIST's digits fill a 20×20 box in the same frame), then written in the
real IDX format under `<root>/MNIST/raw/`, so the project's MNIST loader reads them as `dataset=mnist`.
Split in file order: the first 1,297 images are `train`, the last 500 `test`.

As a script it measures the real classifier and GAN-train of real images on them (docs/metrics.md):
    .venv/bin/python tests/metrics/labelled_digits.py --root /tmp/digits
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from gan_study.study.data.digits import TRAIN_SIZE, digits_28x28  # dataset=digits lays them out the same way


def write_digits_as_mnist(root: Path) -> Path:
    """The digits as MNIST's four IDX files under `<root>/MNIST/raw/`; returns `root`."""
    from labelled_data import write_mnist_idx  # tests/labelled_data.py (on the path under pytest and in main)

    images, labels = digits_28x28()
    for split, part in (("train", slice(0, TRAIN_SIZE)), ("test", slice(TRAIN_SIZE, None))):
        write_mnist_idx(root, images[part], labels[part], split)
    return Path(root)


def measure(root: Path, cache_dir: Path, classifier: dict, curve: list[int]) -> dict[str, float]:
    """Real accuracy and GAN-train of real training images (a "generator" returning the real image of the
    requested class), with the diversity curve of real images, on the digits."""
    from real_image_generators import exemplar_context

    from gan_study.study.metrics import build_metric

    context = exemplar_context(root, cache_dir)
    metric = build_metric("gan_train_test", classifier=classifier, n_test=len(context.reference),
                          diversity_curve=curve)
    return metric.evaluate(context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("/tmp/digits-as-mnist"))
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: <root>/cache")
    parser.add_argument("--epochs", type=int, default=None, help="default: the protocol's 64k iterations")
    parser.add_argument("--curve", type=int, nargs="*", default=[100, 200, 400, 800, TRAIN_SIZE])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here), str(here.parent)]  # real_image_generators, labelled_data: as under pytest
    write_digits_as_mnist(args.root)
    started = time.perf_counter()
    values = measure(args.root, args.cache_dir or args.root / "cache", {"epochs": args.epochs}, args.curve)
    for name, value in values.items():
        print(f"{name}: {value:.4f}")
    print(f"({time.perf_counter() - started:.0f} s; train {TRAIN_SIZE} images, test 1797 - {TRAIN_SIZE} = 500)")


if __name__ == "__main__":
    main()
