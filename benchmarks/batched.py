"""Trials per hour: K trials as K processes side by side, or as one batched computation (launcher.batch=K).

The demo's Triangles settings (28×28, batch 32, 500 steps a trial) by default. Processes: as many 1-trial
processes as the device has cores (CPU: one thread each, as `make demo` runs them) or `--process-ks` of them on
a GPU; batched: one process training K trials at once (study/train/batched.py) on every core. Both are
timed in the same invocation, side by side, after warm-up steps. `--write` stores the measured rates for this
device kind in conf/launcher/batch_rates.yaml, the table `launcher.batch=auto` reads (launch/batching.py).

    python benchmarks/batched.py                           # CPU: processes vs batched K = 2, 4, 8, 16
    python benchmarks/batched.py --device cuda --ks 1,8,32,64 --losses ns_gan,wgan_gp
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_train import synchronize  # noqa: E402
from gpu_check import packed_steps_per_s, random_images  # noqa: E402

from gan_study.launch.batching import BATCH_RATES  # noqa: E402
from gan_study.models.losses import get_loss  # noqa: E402
from gan_study.study.data import ImageSet  # noqa: E402
from gan_study.study.hardware import cpu_name  # noqa: E402
from gan_study.study.train.batched import BatchedTrials, TrialSettings  # noqa: E402


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--losses", default="ns_gan")
    parser.add_argument("--ks", default="2,4,8,16", help="trials per batched group")
    parser.add_argument("--process-ks", default=None, help="processes side by side (default: the cores, on a CPU)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--trial-steps", type=int, default=500, help="steps of one trial (the demo's 500)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per measurement")
    parser.add_argument("--write", action="store_true", help="store the rates in conf/launcher/batch_rates.yaml")
    args = parser.parse_args()
    args.warm_up = 2
    cores = len(os.sched_getaffinity(0))
    args.process_ks = args.process_ks or (str(cores) if args.device == "cpu" else "1,2,4,8")
    return args


def batched_steps_per_s(loss_name: str, k: int, args, device: torch.device) -> float:
    """Trial-steps per second of one process stepping K trials of `loss_name` together."""
    data = random_images(28, 1)
    train_set = ImageSet(torch.from_numpy(data).permute(0, 3, 1, 2).contiguous(), None, "bench", "train")
    trials = [TrialSettings(seed, 2e-4, 0.5) for seed in range(k)]
    group = BatchedTrials(get_loss(loss_name)(), trials, train_set, n_disc=1, batch_size=args.batch, z_dim=64,
                          device=device)
    for _ in range(args.warm_up):
        group.step()
    synchronize(device)
    started = time.perf_counter()
    for _ in range(args.steps):
        logs = group.step()
    synchronize(device)
    assert bool(torch.isfinite(logs["loss_d"]).all())
    return k * args.steps / (time.perf_counter() - started)


def device_kind(device: torch.device) -> str:
    """The key of conf/launcher/batch_rates.yaml: cpu:<torch's CPU kernels> or cuda:<GPU name>."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{torch.backends.cpu.get_cpu_capability()}"


def main() -> None:
    args = parse()
    device = torch.device(args.device)
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    machine = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"{cpu_name()}, {len(os.sched_getaffinity(0))} cores, {torch.backends.cpu.get_cpu_capability()}"
    command = f"python benchmarks/batched.py {' '.join(sys.argv[1:])}".rstrip()
    print(f"machine: {machine}; torch {torch.__version__}; batch {args.batch}; {args.trial_steps} steps a trial")
    print(f"command: {command}\n")
    per_hour = 3600 / args.trial_steps
    processes = {k: packed_steps_per_s(k, args, device, args.steps) * per_hour
                 for k in (int(x) for x in args.process_ks.split(","))}
    best_processes = max(processes.values())
    print("| way | trials at once | trials / hour | vs best processes |")
    print("|---|---|---|---|")
    for k, rate in processes.items():
        print(f"| processes (ns_gan) | {k} | {rate:.1f} | {rate / best_processes:.2f}× |")
    batched = {}
    for loss_name in args.losses.split(","):
        for k in (int(x) for x in args.ks.split(",")):
            rate = batched_steps_per_s(loss_name, k, args, device) * per_hour
            batched.setdefault(loss_name, {})[k] = rate
            print(f"| batched ({loss_name}) | {k} | {rate:.1f} | {rate / best_processes:.2f}× |", flush=True)
    if args.write:
        table = yaml.safe_load(BATCH_RATES.read_text()) or {}
        table.setdefault("devices", {})[device_kind(device)] = {
            "machine": machine, "command": command,
            "trials_per_hour": {"processes": round(best_processes, 2),
                                "batched": {k: round(v, 2) for k, v in batched[args.losses.split(",")[0]].items()}}}
        BATCH_RATES.write_text(BATCH_RATES.read_text().split("devices:")[0] + yaml.safe_dump(table, sort_keys=False))
        print(f"\nwrote {device_kind(device)} to {BATCH_RATES}")


if __name__ == "__main__":
    main()
