"""Extra cost of the measures beyond FID on top of one FID pass, at the protocol's size (n = 10k, 2048-d).

Each measure runs in its own child process on synthetic inputs of the protocol's shape (ReLU features of a
low-rank Gaussian, as pool3 features are non-negative and correlated; 32×32 RGB images for SWD), so its
wall time and its peak memory are its own: the peak resident set during the measure (Linux: the child's
VmHWM, reset through /proc/self/clear_refs once the inputs exist) minus the resident set before it; on a GPU
`torch.cuda.max_memory_allocated` during the measure. The FID pass it is compared with = the Inception network's
forward pass over n generated images (torchvision's Inception v3 skeleton with random weights: the same
arithmetic as the FID network, no weights needed), timed on a few batches and extrapolated, plus the
statistics and the Fréchet distance with the cached root.

    python benchmarks/bench_measures.py [--n 10000] [--dim 2048] [--n-train 10000] [--device cpu] [--threads 2]
"""
from __future__ import annotations

import argparse
import gc
import multiprocessing
import time
from pathlib import Path

import torch

MEASURES = ("precision_recall", "density_coverage", "prd", "memorisation", "swd")


def features(n: int, dim: int, seed: int, device: str) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    mixing = torch.randn(64, dim, generator=torch.Generator().manual_seed(99)) / 8
    return torch.relu(torch.randn(n, 64, generator=generator) @ mixing + 0.1 * seed).to(device)


def inputs(name: str, n: int, dim: int, n_train: int, device: str) -> tuple:
    if name == "swd":
        generator = torch.Generator().manual_seed(0)
        return (torch.rand(n, 3, 32, 32, generator=generator), torch.rand(n, 3, 32, 32, generator=generator))
    if name == "memorisation":
        return features(n_train, dim, 0, device), features(n, dim, 1, device), features(n, dim, 2, device)
    return features(n, dim, 0, device), features(n, dim, 1, device)


def run_measure(name: str, args: tuple) -> None:
    from gan_study.study.metrics.memorisation import memorisation_test
    from gan_study.study.metrics.prd import prd_curve
    from gan_study.study.metrics.precision_recall import density_coverage, improved_precision_recall
    from gan_study.study.metrics.swd import sliced_wasserstein_distances

    functions = {"precision_recall": improved_precision_recall, "density_coverage": density_coverage,
                 "prd": prd_curve, "memorisation": memorisation_test, "swd": sliced_wasserstein_distances}
    functions[name](*args)


def resident_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(name: str, n: int, dim: int, n_train: int, device: str, threads: int, queue) -> None:
    torch.set_num_threads(threads)
    args = inputs(name, n, dim, n_train, device)
    gc.collect()
    if device == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident set
        before = resident_kb("VmRSS") * 1024
    started = time.perf_counter()
    run_measure(name, args)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else resident_kb("VmHWM") * 1024
    queue.put((seconds, peak - before))


def in_child(*args) -> tuple[float, int]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=child, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def fid_pass_seconds(n: int, dim: int, device: str, batch: int, batches: int) -> tuple[float, float]:
    """(network forward over n images, extrapolated from `batches` batches; statistics + Fréchet distance)."""
    from torchvision.models import inception_v3

    from gan_study.study.metrics.fid import covariance_root, frechet_distance_with_sqrt
    from gan_study.study.metrics.statistics import FeatureStatistics

    network = inception_v3(weights=None, aux_logits=False, init_weights=False).eval().to(device)
    images = torch.rand(batch, 3, 299, 299, device=device)
    with torch.no_grad():
        network(images)  # warm-up
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(batches):
            network(images)
        if device == "cuda":
            torch.cuda.synchronize()
    forward = (time.perf_counter() - started) / (batch * batches) * n
    real = FeatureStatistics.of(features(n, dim, 0, device))
    real.covariance_root = covariance_root(real.covariance, torch.device(device))
    generated = features(n, dim, 1, device)
    started = time.perf_counter()
    fake = FeatureStatistics.of(generated)
    frechet_distance_with_sqrt(real.mean, real.covariance, real.covariance_root, fake.mean, fake.covariance,
                               torch.device(device))
    return forward, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--n-train", type=int, default=10000, help="training images the memorisation test searches")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="Inception batch timed for the FID pass")
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--measures", nargs="*", default=list(MEASURES))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    forward, statistics = fid_pass_seconds(args.n, args.dim, args.device, args.batch, args.batches)
    fid_pass = forward + statistics
    print(f"n = {args.n}, d = {args.dim}, n_train = {args.n_train}, device {args.device}, {args.threads} threads")
    print(f"FID pass: network {forward:.1f} s (extrapolated from {args.batch * args.batches} images) + statistics "
          f"and distance {statistics:.1f} s = {fid_pass:.1f} s\n")
    print("| measure | wall s | % of the FID pass | peak memory above its inputs, MB |")
    print("|---|---:|---:|---:|")
    total = 0.0
    for name in args.measures:
        seconds, extra = in_child(name, args.n, args.dim, args.n_train, args.device, args.threads)
        total += seconds
        print(f"| {name} | {seconds:.1f} | {100 * seconds / fid_pass:.1f} | {extra / 2 ** 20:.0f} |", flush=True)
    print(f"| **all** | **{total:.1f}** | **{100 * total / fid_pass:.1f}** | |")


if __name__ == "__main__":
    main()
