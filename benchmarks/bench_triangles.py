"""Triangles: data set generation, the template bank, and one precision and one recall evaluation.

Baseline for generation = the colab's own per-item loop (matplotlib `contains_points` + `convolve`),
timed on a few hundred items and extrapolated to 80,000. Precision runs on real test triangles (the
fits converge, as in a good model) and on a randomly initialised paper generator; recall inverts the
randomly initialised paper generator (its cost does not depend on the weights).

    python benchmarks/bench_triangles.py [--threads 2] [--n 1024] [--colab-items 200]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from matplotlib.path import Path as PolygonPath
from scipy import ndimage

from gan_study.models.infogan import Generator
from gan_study.study.data import triangle_geometry as geometry
from gan_study.study.data import triangles
from gan_study.study.data.image_set import ImageSet
from gan_study.study.metrics import EvalContext, build_metric
from gan_study.study.hardware import cpu_name


def colab_item_seconds(items: int) -> float:
    """Seconds per triangle of the colab's loop: contains_points on the 224² grid, convolve, subsample."""
    uniforms, _ = geometry.draw_colab_parameters(items, seed=0)
    vertices = geometry.colab_vertices(uniforms)
    grid_x, grid_y = np.mgrid[0:224, 0:224]
    grid = np.column_stack((grid_x.ravel(), grid_y.ravel()))
    started = time.perf_counter()
    for polygon in vertices:
        outside = ~PolygonPath(polygon * 8).contains_points(grid).reshape(224, 224)
        ndimage.convolve(outside.astype(np.float32), np.ones((8, 8)), mode="constant", cval=1.0)[::8, ::8] / 64
    return (time.perf_counter() - started) / items  # single-threaded numpy/matplotlib


def timed(action):
    """(result, wall seconds, CPU seconds of this process): CPU time shows contention from other processes."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--colab-items", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    rows = []

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        per_item = colab_item_seconds(args.colab_items)
        rows.append(("generate 80,000 triangles: colab loop (extrapolated)", 80_000, (per_item * 80_000, None), "—"))
        _, seconds = timed(lambda: triangles.load_triangle_counts(root, seed=0))
        rows.append(("generate 80,000 triangles: gan-study (+ write cache)", 80_000, seconds, "—"))
        counts, seconds = timed(lambda: triangles.load_triangle_counts(root, seed=0))
        rows.append(("read the cached 80,000 (checksum verified)", 80_000, seconds, "—"))
        test = torch.from_numpy(counts[60_000:70_000]).float().div(64).unsqueeze(1)
        reference = ImageSet(test, None, "triangles", "test")

        def prior(n: int, rng: torch.Generator | None = None) -> torch.Tensor:
            return torch.rand(n, 64, generator=rng) * 2 - 1

        torch.manual_seed(0)
        generator = Generator((1, 28, 28), 64).eval()
        context = EvalContext(generator=generator, sample_z=prior,
                              eval_latents=lambda n: prior(n, torch.Generator().manual_seed(42)),
                              dataset_name="triangles", reference=reference, device=torch.device("cpu"),
                              cache_dir=root / "cache")
        precision_only = build_metric("triangles_pr", n=args.n, recall=False)
        _, seconds = timed(lambda: precision_only.template_bank(context))
        rows.append(("template bank 16³ (build + cache)", 16 ** 3, seconds, "—"))
        real = test[:args.n].flatten(1)
        distances, seconds = timed(lambda: precision_only.precision_distances(real, context))
        rows.append((f"precision, real test triangles (P = {float((distances < 0.75).double().mean()):.3f})",
                     args.n, seconds, "< 60 s"))
        values, seconds = timed(lambda: precision_only.evaluate(context))
        rows.append((f"precision, random-init paper G (P = {values['precision']:.3f})", args.n, seconds, "< 60 s"))
        recall = build_metric("triangles_pr", n=args.n)
        distances, seconds = timed(lambda: recall.recall_distances(context))
        rows.append((f"recall, random-init paper G (median distance {float(distances.median()):.1f})",
                     args.n, seconds, "< 300 s"))

    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads, torch {torch.__version__}; "
          f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other processes)")
    print(f"command: python benchmarks/bench_triangles.py --threads {args.threads} --n {args.n} "
          f"--colab-items {args.colab_items}")
    card = recall.card()
    print(f"settings: precision {card['precision']['init']} top-{card['precision']['top_k']}, "
          f"{card['precision']['steps']} steps; recall {card['recall']['restarts']} restarts "
          f"({card['recall']['starts']}), {card['recall']['steps']} steps\n")
    print("| what | items | wall s | CPU s (all threads) | items/s (wall) | goal (wall) |")
    print("|---|---|---|---|---|---|")
    for what, items, (wall, cpu), goal in rows:
        cpu_text = "—" if cpu is None else f"{cpu:.1f}"
        print(f"| {what} | {items} | {wall:.1f} | {cpu_text} | {items / wall:.0f} | {goal} |")


if __name__ == "__main__":
    main()
