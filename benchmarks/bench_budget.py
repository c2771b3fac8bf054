"""Score-vs-budget statistics: every budget k = 1..N of M models × N trials × B bootstrap resamples.

Three ways to the same curves, timed side by side:
* per-budget bootstrap: the paper's procedure done directly, one (B, k) draw and minimum per budget;
* gan-study's bootstrap (`gan_study.analysis.budget.bootstrap_curve`): one (B, N) draw per model, all budgets as
  its cumulative minimum (each budget's marginal distribution is the paper's);
* the exact expectation (`gan_study.analysis.budget.exact_curve`): order statistics, no resampling at all.

    python benchmarks/bench_budget.py [--models 8] [--trials 100] [--resamples 5000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gan_study.analysis.budget import bootstrap_curve, exact_curve  # noqa: E402
from gan_study.study.hardware import cpu_name  # noqa: E402


def per_budget_bootstrap(scores: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The paper's loop: for each k, draw k trials B times with replacement and keep the minimum
    (mean and sd over the resamples with a measured trial, as gan-study reports them)."""
    rng = np.random.default_rng(seed)
    stats = np.empty((len(scores), 2))
    for k in range(1, len(scores) + 1):
        best = scores[rng.integers(0, len(scores), size=(resamples, k))].min(axis=1)
        best = best[np.isfinite(best)]
        stats[k - 1] = best.mean(), best.std()
    return stats


def best_time(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--resamples", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    studies = [np.where(rng.random(args.trials) < 0.1, np.inf, rng.lognormal(3.5, 0.6, args.trials))
               for _ in range(args.models)]

    timings = {
        "per-budget bootstrap (paper's loop)": best_time(
            lambda: [per_budget_bootstrap(s, args.resamples, 0) for s in studies], args.repeats),
        "gan-study bootstrap (cumulative minimum)": best_time(
            lambda: [bootstrap_curve(s, resamples=args.resamples, seed=0) for s in studies], args.repeats),
        "gan-study exact expectation (order statistics)": best_time(
            lambda: [exact_curve(s) for s in studies], args.repeats),
    }
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    print(f"command: python benchmarks/bench_budget.py --models {args.models} --trials {args.trials} "
          f"--resamples {args.resamples} --repeats {args.repeats}")
    print(f"work: {args.models} models × {args.trials} trials (10% diverged), budgets k = 1..{args.trials}, "
          f"B = {args.resamples} resamples; best of {args.repeats} runs\n")
    print("| method | seconds | vs paper's loop |")
    print("|---|---|---|")
    baseline = next(iter(timings.values()))
    for name, seconds in timings.items():
        print(f"| {name} | {seconds:.3f} | {baseline / seconds:.0f}× |")


if __name__ == "__main__":
    main()
