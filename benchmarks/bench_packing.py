"""Trials per GPU-hour with trials_per_gpu = K, for the 28×28 models, through the packing code SLURM runs.

For each K, K WAITING trials of a real study (a 28×28×1 data set: the generated Triangles, MNIST's shape,
no download; the paper's batch of 64; `--steps` D steps; one cheap evaluation at the end) run side by side
as `gan_study.launch.packing.TrialGroup` runs them in one array task: K processes on one device, each claiming,
training and reporting its trial. Two figures per K, both in full-trial equivalents (15,625 steps, the
paper's MNIST / Fashion-MNIST budget) per device-hour:
- wall: K trials over the wall time from the first start to the last report (start-up included);
- steady: the sum of the K trials' training rates (`images_per_s` of each record.json), start-up excluded.
The goal (issue 5) is steady(K) >= 3 × steady(1) on a GPU for some K.

    python benchmarks/bench_packing.py --device cuda [--steps 2000] [--ks 1,2,4,8] [--model ns_gan]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from optuna.trial import TrialState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan_study.launch.config_tree import compose_config  # noqa: E402
from gan_study.launch.debug import DebugExecutor  # noqa: E402
from gan_study.launch.packing import TrialGroup  # noqa: E402
from gan_study.launch.driver import Sweep  # noqa: E402
from gan_study.launch.sweep_plans import build_plans  # noqa: E402
from gan_study.launch.sweep_settings import SweepSettings  # noqa: E402
from gan_study.study.hardware import cpu_name  # noqa: E402

PAPER_STEPS = 15_625
BATCH = 64


def plan_for(k: int, args, work: Path):
    """The study of K fresh trials (its own name, so every K starts from WAITING trials)."""
    overrides = [f"model={args.model}", "dataset=triangles", f"train.steps={args.steps}",
                 f"train.eval_every_steps={args.steps}", f"train.batch_size={BATCH}", "train.log_every_steps=500",
                 "eval=none", "+eval.metrics.triangles_pr={n:64,recall:false,bank_grid:4,steps:5,batch_size:64}",
                 "objective.metric=precision_median_distance", f"n_trials={k}", f"study_name=pack{k}",
                 f"device={args.device}", f"storage.url=journal:{work / 'bench.journal'}",
                 f"runs_root={work / 'runs'}", f"data_root={args.data_root}", f"cache_dir={work / 'cache'}"]
    cfg = compose_config("sweep", overrides)
    (plan,) = build_plans(cfg, None)
    # only to create the study as gan-sweep does
    driver = Sweep([plan], DebugExecutor(), SweepSettings.from_config(cfg), k)
    driver.prepare()
    return plan, driver.studies[plan.name]


def run_packed(k: int, args, work: Path) -> dict:
    plan, study = plan_for(k, args, work)
    tasks = [plan.task(t) for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))]
    started = time.perf_counter()
    outcome = TrialGroup(tasks, threads_per_trial=max(1, args.cpus // k), log_dir=str(work / f"logs{k}"))()
    wall = time.perf_counter() - started
    records = [json.loads((Path(t.run_dir) / "record.json").read_text()) for t in tasks]
    if set(outcome.values()) != {"completed"}:
        sys.exit(f"K={k}: trials ended {outcome}; logs in {work / f'logs{k}'}")
    steady_steps_per_s = sum(r["images_per_s"] / BATCH for r in records)
    return {"k": k, "wall_s": wall, "wall_trials_per_h": k * args.steps / PAPER_STEPS / (wall / 3600),
            "steady_trials_per_h": steady_steps_per_s * 3600 / PAPER_STEPS,
            "per_trial_steps_per_s": steady_steps_per_s / k}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--ks", default="1,2,4,8")
    parser.add_argument("--model", default="ns_gan")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="CPU threads shared by the K trials")
    parser.add_argument("--data-root", default=os.environ.get("GAN_STUDY_DATA", "data"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="bench_packing_"))
    rows = []
    for k in (int(x) for x in args.ks.split(",")):
        rows.append(run_packed(k, args, work))
        print(f"done: K={k} in {rows[-1]['wall_s']:.0f} s", file=sys.stderr, flush=True)
    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else \
        f"CPU ({cpu_name()}, {args.cpus} threads shared)"
    print(f"machine: {device}, torch {torch.__version__}; {args.model} on 28×28×1, batch {BATCH}, "
          f"{args.steps} steps per trial; full trial = {PAPER_STEPS} steps")
    print(f"command: python benchmarks/bench_packing.py --device {args.device} --steps {args.steps} "
          f"--ks {args.ks} --model {args.model} --cpus {args.cpus}\n")
    print("| trials_per_gpu | wall s | trials / device-hour (wall) | trials / device-hour (steady) | "
          "steps/s per trial | vs K=1 (steady) |")
    print("|---|---|---|---|---|---|")
    base = rows[0]["steady_trials_per_h"]
    for row in rows:
        print(f"| {row['k']} | {row['wall_s']:.1f} | {row['wall_trials_per_h']:.2f} | "
              f"{row['steady_trials_per_h']:.2f} | {row['per_trial_steps_per_s']:.1f} | "
              f"{row['steady_trials_per_h'] / base:.2f}× |")


if __name__ == "__main__":
    main()
