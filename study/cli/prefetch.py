"""`gan-prefetch`: fetch what compute nodes cannot (pretrained weights, data sets), on a machine with internet.

    gan-prefetch                                   # the FID Inception weights
    gan-prefetch weights=inception,vgg16 dataset=mnist,cifar10 data_root=/shared/data
    gan-prefetch weights=none dataset=celeba

Weights go to torch hub's cache (`torch.hub.get_dir()/checkpoints/`, override with weights_dir=...),
where the metrics look for them, and are checked against the SHA-256 prefix in their file name (torch
hub's convention). Data sets go through `gan_study.study.data.download_dataset`. Arguments are key=value like
Hydra overrides; lists are comma-separated.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Sequence

import torch

from gan_study.study.files import replaced_atomically
from gan_study.study.metrics.weights import KNOWN_WEIGHTS, WeightsFile, hub_checkpoints_dir, verified_sha256

log = logging.getLogger("gan_study.prefetch")

KEYS = ("weights", "dataset", "data_root", "weights_dir")


def fetch_weights(weights: WeightsFile, target_dir: Path) -> Path:
    """Download `weights` into `target_dir` unless an intact copy is there; returns the file's path."""
    path = target_dir / weights.filename
    if path.is_file():
        verified_sha256(path, weights.hash_prefix)
        log.info("%s: already present at %s (SHA-256 prefix %s ok)", weights.key, path, weights.hash_prefix)
        return path
    target_dir.mkdir(parents=True, exist_ok=True)
    log.info("%s: downloading %s -> %s", weights.key, weights.url, path)
    with replaced_atomically(path) as partial:
        torch.hub.download_url_to_file(weights.url, str(partial), hash_prefix=weights.hash_prefix or None,
                                       progress=True)
        verified_sha256(partial, weights.hash_prefix)
    return path


def parse(argv: Sequence[str]) -> dict[str, list[str] | str]:
    """key=value arguments → options; weights/dataset are comma-separated lists ('none' = empty)."""
    options: dict[str, list[str] | str] = {"weights": ["inception"], "dataset": [],
                                           "data_root": os.environ.get("GAN_STUDY_DATA", "data"),
                                           "weights_dir": str(hub_checkpoints_dir())}
    for argument in argv:
        key, sep, value = argument.partition("=")
        if not sep or key not in KEYS:
            raise ValueError(f"gan-prefetch: argument {argument!r} is not allowed: key=value with key in {list(KEYS)}")
        if key in ("weights", "dataset"):
            names = [] if value in ("", "none") else [name.strip() for name in value.split(",")]
            options[key] = names
        else:
            options[key] = value
    unknown = [name for name in options["weights"] if name not in KNOWN_WEIGHTS]
    if unknown:
        raise ValueError(f"gan-prefetch: weights = {unknown} is not allowed: names among {sorted(KNOWN_WEIGHTS)}")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return 0
    try:
        options = parse(argv)
        if options["dataset"]:
            from gan_study.study.data import available_datasets

            unknown = [name for name in options["dataset"] if name not in available_datasets()]
            if unknown:
                raise ValueError(f"gan-prefetch: dataset = {unknown} is not allowed: names among "
                                 f"{available_datasets()}")
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        for name in options["weights"]:
            path = fetch_weights(KNOWN_WEIGHTS[name], Path(options["weights_dir"]))
            print(f"weights {name}: {path}")
        for name in options["dataset"]:
            from gan_study.study.data import download_dataset

            sizes = download_dataset(name, options["data_root"])
            print(f"dataset {name}: {sizes} images per split in {options['data_root']}")
    except (OSError, RuntimeError) as error:  # no network (torchvision: RuntimeError), a folder not writable
        reason = " ".join(str(error).split())
        print(f"gan-prefetch: could not fetch {name!r}: {reason} (gan-prefetch needs internet access and a "
              "writable folder: run it where there is, then copy the files)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
