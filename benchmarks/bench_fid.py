"""FID cost on this machine: our Fréchet distance vs scipy's sqrtm (pytorch-fid), and one full evaluation.

1. The distance at d = 2048 (Inception pool3) between two covariances of 10k random features:
   ours with the cached root F of Σ_real (what each evaluation pays), ours from scratch, the same
   formula with torch's CPU kernels only, and
   `pytorch_fid.fid_score.calculate_frechet_distance` (scipy.linalg.sqrtm), with their relative difference.
2. Float64 mean/covariance of 10k × 2048 features (paid for the generated side at every evaluation).
3. The FID Inception's CPU throughput, measured on a few hundred images with RANDOM weights of the real
   architecture (speed does not depend on the weights) and the paper's preprocessing, extrapolated to
   one evaluation of 10k generated images (the 10k real ones are encoded once, then cached).

    python benchmarks/bench_fid.py [--threads 2] [--images 200] [--batch 50] [--scipy-repeats 1]
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=200, help="images timed through the Inception")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--n", type=int, default=10000, help="samples behind each covariance")
    parser.add_argument("--dim", type=int, default=2048, help="feature dimension (2048 = Inception pool3)")
    parser.add_argument("--scipy-repeats", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


ARGS = parse()
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy/scipy load BLAS
    os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pytorch_fid.fid_score import calculate_frechet_distance  # noqa: E402

from gan_study.study.metrics.encoders.inception import fid_inception_v3, pool3_features  # noqa: E402
from gan_study.study.metrics.fid import (covariance_root, frechet_distance, frechet_distance_with_sqrt,  # noqa: E402
                               symmetric_sqrt)
from gan_study.study.metrics.preprocess import inception_input  # noqa: E402
from gan_study.study.metrics.statistics import FeatureStatistics  # noqa: E402
from gan_study.study.hardware import cpu_name  # noqa: E402

D = ARGS.dim
CPU = torch.device("cpu")
LOAD_BEFORE = f"{os.getloadavg()[0]:.1f}"


class Timing:
    """Best wall and CPU seconds (all threads of this process) over the runs of one piece of work."""

    def __init__(self, work):
        self.work, self.wall, self.cpu, self.result = work, float("inf"), float("inf"), None

    def run(self) -> Timing:
        wall, cpu = time.perf_counter(), time.process_time()
        self.result = self.work()
        self.wall = min(self.wall, time.perf_counter() - wall)
        self.cpu = min(self.cpu, time.process_time() - cpu)
        return self


def round_robin(timings: list[Timing], repeats: int) -> None:
    """Run each piece once per round, so a change of machine load hits every method alike."""
    for _ in range(repeats):
        for timing in timings:
            timing.run()


def random_features(n: int, seed: int, mix: float) -> torch.Tensor:
    """Non-negative, correlated features with a pool3-like spread (a random ReLU layer of Gaussians)."""
    generator = torch.Generator().manual_seed(seed)
    weights = torch.randn(D, D, generator=generator) / D ** 0.5
    return torch.relu(torch.randn(n, D, generator=generator) @ (torch.eye(D) + mix * weights))


def torch_only_tfgan_form(mu1, s1, a, mu2, s2) -> float:
    """The same formula with torch's CPU kernels only (A Σ_g A by gemm, torch.linalg.eigvalsh), for comparison."""
    s1, s2, a = (torch.from_numpy(np.asarray(m)) if not isinstance(m, torch.Tensor) else m for m in (s1, s2, a))
    eigenvalues = torch.linalg.eigvalsh(a @ s2 @ a)
    trace_sqrt = float(eigenvalues.clamp(min=0).sqrt().sum())
    return float(((mu1 - mu2) ** 2).sum() + torch.trace(s1) + torch.trace(s2)) - 2 * trace_sqrt


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores visible, {ARGS.threads} threads; torch {torch.__version__}")
    print(f"command: python benchmarks/bench_fid.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"load average at start: {LOAD_BEFORE} (other work on this machine slows wall times; CPU seconds less so)")
    print()

    real, fake = random_features(ARGS.n, 0, 0.5), random_features(ARGS.n, 1, 0.8)
    stats = Timing(lambda: FeatureStatistics.of(fake))
    round_robin([stats], ARGS.repeats)
    real_stats, fake_stats = FeatureStatistics.of(real), stats.result
    mu1, s1 = real_stats.mean.numpy(), real_stats.covariance.numpy()
    mu2, s2 = fake_stats.mean.numpy(), fake_stats.covariance.numpy()

    root = Timing(lambda: covariance_root(s1, CPU)).run()
    a = symmetric_sqrt(s1, CPU)
    cached = Timing(lambda: frechet_distance_with_sqrt(mu1, s1, root.result, mu2, s2, CPU))
    torch_only = Timing(lambda: torch_only_tfgan_form(mu1, s1, a, mu2, s2))
    scratch = Timing(lambda: frechet_distance(mu1, s1, mu2, s2, CPU))
    scipy = Timing(lambda: calculate_frechet_distance(mu1, s1, mu2, s2))
    round_robin([cached, torch_only, scratch], ARGS.repeats)
    round_robin([scipy], ARGS.scipy_repeats)
    round_robin([cached, torch_only, scratch], 1)  # once more after scipy: the best time is what the code costs
    relative = abs(cached.result - scipy.result) / abs(scipy.result)

    print(f"### Fréchet distance, d = {D}, covariances of {ARGS.n} samples (best of {ARGS.repeats + 1}, round robin; "
          f"scipy best of {ARGS.scipy_repeats})\n")
    print("| method | wall s | CPU s | speed-up vs scipy (wall / CPU) | FID |")
    print("|---|---:|---:|---:|---:|")
    rows = [("scipy.linalg.sqrtm (pytorch-fid calculate_frechet_distance)", scipy),
            ("ours, from scratch (Cholesky of Σ_r + 2 dtrmm + dsyevr)", scratch),
            ("TF-GAN form in torch only: cached symmetric A, 2 gemm + torch.linalg.eigvalsh", torch_only),
            ("**ours, cached Cholesky factor F (per evaluation): 2 dtrmm + dsyevr**", cached)]
    for name, timing in rows:
        print(f"| {name} | {timing.wall:.2f} | {timing.cpu:.2f} | {scipy.wall / timing.wall:.1f}× / "
              f"{scipy.cpu / timing.cpu:.1f}× | {timing.result:.6f} |")
    print(f"\nrelative difference ours vs scipy: {relative:.2e}; one-off root of Σ_r (cached with the real "
          f"statistics): {root.wall:.2f} s; float64 mean+covariance of {ARGS.n}×{D} features: {stats.wall:.2f} s; "
          f"load average before/after: {LOAD_BEFORE} / {os.getloadavg()[0]:.1f}\n")

    torch.manual_seed(0)
    net = fid_inception_v3().eval()
    images = torch.rand(ARGS.images, 1, 28, 28)
    with torch.no_grad():
        pool3_features(net, inception_input(images[:2]))  # warm-up
        started = time.perf_counter()
        for start in range(0, ARGS.images, ARGS.batch):
            pool3_features(net, inception_input(images[start:start + ARGS.batch]))
        per_image = (time.perf_counter() - started) / ARGS.images
    generated = 10000 * per_image
    total = generated + stats.wall + cached.wall
    print(f"### One FID evaluation, 10k generated vs 10k real, on this CPU\n")
    print("| part | seconds | how |")
    print("|---|---:|---|")
    print(f"| Inception pool3 of 10k generated images | {generated:.0f} | EXTRAPOLATED: {per_image * 1000:.0f} ms/image "
          f"measured on {ARGS.images} 28×28 gray images (random weights, real architecture, TF1 resize to 299), "
          f"batch {ARGS.batch} |")
    print(f"| float64 mean + covariance | {stats.wall:.1f} | measured |")
    print(f"| Fréchet distance (cached root) | {cached.wall:.1f} | measured |")
    print(f"| **total per evaluation** | **{total:.0f}** (≈ {total / 60:.0f} min) | the 10k real images cost the "
          f"same once ({generated:.0f} s), then come from the cache |")


if __name__ == "__main__":
    main()
