"""t-SNE of the GAN-test classifier's features of real and generated images (Shmelkov et al., "How good is my
GAN?", appendix): where the generated images fall among the real classes.

    python -m gan_study.study.cli.tsne --run runs/<run> --n 2000 --out results/tsne.csv

The classifier is the real-data one of GAN-test (study/metrics/classifiers, cached under --cache-dir; Shmelkov et
al.'s recipe unless --iterations / --width / --batch-size / --lr change it), trained on the run's training split.
Its features are the input of its last linear layer. n real reference images and n generated ones (the run's
generator of its best FID evaluation when kept; balanced classes for a class-conditional run, else labelled by the
classifier's prediction) are embedded together by scikit-learn's t-SNE. `gan-report sanity.tsne=results/tsne.csv`
draws the `tsne_features` figure.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_study.study.data.image_set import as_unit_float
from gan_study.study.cli.fid_experiments import write_csv
from gan_study.study.cli.run_commands import add_run_arguments, classifier_options, load_run
from gan_study.study.metrics.classifiers import predict, real_classifier

log = logging.getLogger("gan_study.metrics")


@torch.no_grad()
def classifier_features(network: nn.Module, images: torch.Tensor, device: torch.device,
                        batch_size: int = 500) -> torch.Tensor:
    """The input of the classifier's last linear layer (`network.classifier`) for every image, on the CPU."""
    captured: list[torch.Tensor] = []
    hook = network.classifier.register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].cpu()))
    try:
        network.eval()
        for start in range(0, len(images), batch_size):
            network(as_unit_float(images[start:start + batch_size]).to(device))
    finally:
        hook.remove()
    return torch.cat(captured)


def tsne_rows(real_images: torch.Tensor, real_labels: torch.Tensor, fake_images: torch.Tensor,
              fake_labels: torch.Tensor, network: nn.Module, device: torch.device, perplexity: float,
              seed: int) -> list[dict[str, Any]]:
    """One row per image: source (real / generated), label, and its 2-d t-SNE coordinates (x, y)."""
    from sklearn.manifold import TSNE

    features = torch.cat([classifier_features(network, real_images, device),
                          classifier_features(network, fake_images, device)]).double().numpy()
    embedded = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)
    sources = ["real"] * len(real_images) + ["generated"] * len(fake_images)
    labels = torch.cat([real_labels, fake_labels]).tolist()
    return [{"source": s, "label": int(k), "x": float(x), "y": float(y)}
            for s, k, (x, y) in zip(sources, labels, embedded)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_study.study.cli.tsne", description=__doc__.split("\n\n")[0])
    add_run_arguments(parser)
    parser.add_argument("--n", type=int, default=2000, help="real and generated images each")
    parser.add_argument("--perplexity", type=float, default=30.0)
    parser.add_argument("--cache-dir", default=os.environ.get("GAN_STUDY_CACHE", ".gan-study/cache"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = _parser().parse_args(argv)
    from gan_study.study.train.run import resolve_device

    try:  # everything is checked before any classifier is trained
        options = classifier_options(args)
        device = resolve_device(args.device)
        generator, train, reference = load_run(args.run, args.data_root)
        if train.labels is None:
            raise ValueError(f"--run {args.run}: {train.name} has no class labels: the classifier needs them")
        if not 2 <= args.n <= len(reference):
            raise ValueError(f"--n {args.n} is not allowed: between 2 and the {len(reference)} images of "
                             f"{reference.name}/{reference.split}")
        if not 0 < args.perplexity < 2 * args.n:
            raise ValueError(f"--perplexity {args.perplexity} is not allowed: in (0, 2·n = {2 * args.n})")
    except (ValueError, FileNotFoundError) as error:
        print(f"tsne: {error}", file=sys.stderr)
        return 2
    num_classes = int(train.labels.max()) + 1
    classifier = real_classifier(train, num_classes, options.resolved(train.shape), Path(args.cache_dir), device)
    z = generator.latents(args.n, args.seed)
    if generator.num_classes is None:
        fake = torch.cat([generator(z[i:i + 500]) for i in range(0, args.n, 500)]).clamp(0, 1)
        fake_labels = predict(classifier.network, fake, device)
    else:
        fake_labels = torch.arange(args.n) % generator.num_classes
        fake = torch.cat([generator(z[i:i + 500], fake_labels[i:i + 500]) for i in range(0, args.n, 500)]).clamp(0, 1)
    rows = tsne_rows(reference.images[:args.n], reference.labels[:args.n], fake, fake_labels, classifier.network,
                     device, args.perplexity, args.seed)
    rows = [{"dataset": train.name, "run": Path(args.run).name, **row} for row in rows]
    out = write_csv(rows, args.out)
    print(f"tsne: {args.n} real + {args.n} generated images of {train.name} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
