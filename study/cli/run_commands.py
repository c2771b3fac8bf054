"""What the commands that read a trained run and train a classifier share (augmentation, t-SNE): their common
arguments, the classifier options they give, and the run's generator with its data, checked before any compute."""
from __future__ import annotations

import argparse
import os

from gan_study.study.data.image_set import ImageSet
from gan_study.study.metrics.classifiers import ClassifierOptions
from gan_study.study.train.trained_generator import TrainedGenerator


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """--run, --data-root, --device, --seed, the classifier's --iterations / --width / --batch-size / --lr, --out."""
    parser.add_argument("--run", required=True, help="a run folder (with generators/ or checkpoint.pt)")
    parser.add_argument("--data-root", default=os.environ.get("GAN_STUDY_DATA", "data"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0, help="latents of the generated images")
    parser.add_argument("--iterations", type=int, default=None, help="classifier SGD steps (default: 64k)")
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--out", required=True, help="CSV file")


def classifier_options(args: argparse.Namespace) -> ClassifierOptions:
    return ClassifierOptions.from_options({"iterations": args.iterations, "width": args.width,
                                           "batch_size": args.batch_size, "lr": args.lr})


def load_run(run: str, data_root: str) -> tuple[TrainedGenerator, ImageSet, ImageSet]:
    """The run's generator (of its best FID evaluation when kept), its training split and its reference split;
    FileNotFoundError / ValueError name what is missing."""
    from gan_study.study.data import load_dataset
    from gan_study.study.train.trained_generator import generator_file

    path = generator_file(run, "fid")
    if path is None:
        raise FileNotFoundError(f"--run {run}: no run folder with a kept generator")
    generator = TrainedGenerator(path, "fid")
    data = generator.config.dataset
    return (generator, load_dataset(data.name, data_root, data.train_split),
            load_dataset(data.name, data_root, data.reference_split))
