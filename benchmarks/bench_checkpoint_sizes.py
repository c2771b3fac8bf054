"""Disk a trial leaves behind, per resolution and model: the full checkpoint vs what a finished run keeps.

    python benchmarks/bench_checkpoint_sizes.py [--models ns_gan,wgan_gp,began,vae]

Real `run_training` runs (2 steps, an evaluation at each, `train.keep_checkpoint=true` so both kinds of file
are there to measure) on random images of each data set's shape: the training code path and the files are the
real ones, only the pixels are not (the sizes do not depend on them). Prints, per data set shape and model:
the full `checkpoint.pt` (G, D, both optimisers, RNG and data order: what a run needs to resume; a running
trial also keeps the previous one, `checkpoint.prev.pt`), one generator file, and what a finished run keeps by
default (best and last evaluation's generators: one file when they coincide, two at most per objective).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

DATASETS = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32), "celeba": (3, 64, 64)}


def random_images(shape: tuple[int, int, int]):
    from gan_study.study.data.image_set import ImageSet

    def load(cfg, device):
        return ImageSet(torch.randint(0, 256, (64, *shape), dtype=torch.uint8), None, cfg.dataset.name, "train").to(device)

    return load


def measure(model: str, dataset: str, shape: tuple[int, int, int]) -> tuple[int, int]:
    import gan_study.study.train.run as run
    from gan_study.launch.config_tree import compose_config
    from gan_study.study.config import validate

    run.load_train_set = random_images(shape)
    cfg = validate(compose_config("config", [f"model={model}", f"dataset={dataset}", "eval=none", "train=tiny",
                                             "train.steps=2", "train.eval_every_steps=1", "train.keep_checkpoint=true",
                                             "device=cpu"]))
    with tempfile.TemporaryDirectory() as folder:
        run.run_training(cfg, folder)
        full = (Path(folder) / "checkpoint.pt").stat().st_size
        generator = (Path(folder) / "generators" / "step_0000002.pt").stat().st_size
    return full, generator


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="ns_gan,wgan_gp,began,vae")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}; sizes in MB (10^6 bytes)\n")
    print("| data set (shape) | model | full checkpoint.pt | one generator | finished run keeps (1-2 generators) |")
    print("|---|---|---|---|---|")
    for dataset, shape in DATASETS.items():
        for model in args.models.split(","):
            full, generator = measure(model, dataset, shape)
            print(f"| {dataset} {shape[1]}×{shape[2]}×{shape[0]} | {model} | {mb(full)} | {mb(generator)} | "
                  f"{mb(generator)}–{mb(2 * generator)} |", flush=True)


if __name__ == "__main__":
    main()
