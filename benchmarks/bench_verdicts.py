"""Pairwise verdicts: every pair of 8 losses × 100 trials × 50 budgets, exact and with 1,000 bootstrap resamples.

Two timings, best of `--repeats`:
* the arrays (`gan_study.analysis.verdicts.pairwise_sample`): the exact P(better) of all 28 pairs at 50 budgets and
  its 1,000 bootstrap replicates;
* the study table (`gan_study.analysis.comparisons.verdict_frame`): the same from a trial table, plus intervals,
  p-values, Holm, decisions and trials needed, as `gan-report` computes them.

    python benchmarks/bench_verdicts.py [--losses 8] [--trials 100] [--budgets 50] [--resamples 1000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_budget import best_time  # noqa: E402
from gan_study.analysis.comparisons import VerdictOptions, verdict_frame  # noqa: E402
from gan_study.analysis.scores import ScoreSpec  # noqa: E402
from gan_study.analysis.verdicts import pairwise_sample  # noqa: E402
from gan_study.study.hardware import cpu_name  # noqa: E402


def trial_table(scores: list[np.ndarray]) -> pd.DataFrame:
    """The few Contract 6 columns the verdicts read, one search of one data set."""
    rows = [pd.DataFrame({"study": "bench", "trial": np.arange(len(s)) + 1000 * i, "model": f"loss{i}",
                          "dataset": "mnist", "search": "wide", "seed_study": False,
                          "status": np.where(np.isfinite(s), "completed", "diverged"), "best_fid": s,
                          "runtime_s": 100.0}) for i, s in enumerate(scores)]
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--losses", type=int, default=8)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--budgets", type=int, default=50)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    scores = [np.where(rng.random(args.trials) < 0.1, np.inf, rng.lognormal(3.5 + 0.02 * i, 0.6, args.trials))
              for i in range(args.losses)]
    budgets = [np.arange(1, args.budgets + 1)] * args.losses
    options = VerdictOptions(budgets=tuple(float(k) for k in range(1, args.budgets + 1)), at=float(args.budgets),
                             resamples=args.resamples)
    trials = trial_table(scores)
    spec = ScoreSpec("fid", "best", "minimize")
    pairs = args.losses * (args.losses - 1) // 2
    timings = {
        f"exact + bootstrap replicates, {pairs} pairs (pairwise_sample)": best_time(
            lambda: pairwise_sample(scores, budgets, args.resamples, seed=0), args.repeats),
        "whole verdict table: + intervals, p-values, Holm, decisions, trials needed (verdict_frame)": best_time(
            lambda: verdict_frame(trials, spec, options), args.repeats),
    }
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    print(f"command: python benchmarks/bench_verdicts.py --losses {args.losses} --trials {args.trials} "
          f"--budgets {args.budgets} --resamples {args.resamples} --repeats {args.repeats}")
    print(f"work: {args.losses} losses × {args.trials} trials (10% diverged), budgets k = 1..{args.budgets}, "
          f"B = {args.resamples} resamples; best of {args.repeats} runs\n")
    print("| what | seconds |")
    print("|---|---|")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
