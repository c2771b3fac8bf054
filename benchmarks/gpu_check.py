"""The GPU path in one script: every loss trains on the device, and what the paper's first phase would cost.

1. Every loss at 28, 32 and 64 px for `--steps` steps: images/s of the reference-style loop (float32,
   DataLoader, unfused Adam; benchmarks/bench_train.py) against gan-study's step in float32, TF32 and
   bfloat16, and whether every step value stayed finite.
2. Resume: a `run_training` run interrupted half-way and resumed against one run straight through
   (bitwise equal is claimed on the CPU only; on a GPU the largest weight difference is shown).
3. FID-10k: the Inception pass of 10k generated images in large batches (random weights of the real
   architecture: speed does not depend on them), float64 statistics, the distance with the real side's
   root cached; measured, or extrapolated from `--fid-images` where fewer are run.
4. Trials per GPU-hour for K trials on one device: K processes (as `trials_per_gpu` packs them) and one
   process training K trials as one batched computation (study/train/batched.py), ns_gan at 28×28.
5. The projected GPU-hours of the paper's first phase (8 losses × 100 runs × MNIST and Fashion-MNIST,
   15,625 steps, FID every 5 epochs), with its arithmetic.

    python benchmarks/gpu_check.py                      # on a GPU: under 8 minutes
    python benchmarks/gpu_check.py --device cpu --quick # the same code paths in seconds (tests/benchmarks)
"""
from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_train import SHAPES, Contender, compare, resident_batches, synchronize  # noqa: E402

from gan_study.models.losses import available_losses, get_loss  # noqa: E402
from gan_study.study.data import ImageSet  # noqa: E402
from gan_study.study.metrics.encoders.inception import fid_inception_v3, pool3_features  # noqa: E402
from gan_study.study.metrics.fid import covariance_root, frechet_distance_with_sqrt  # noqa: E402
from gan_study.study.metrics.preprocess import inception_input  # noqa: E402
from gan_study.study.metrics.statistics import FeatureStatistics  # noqa: E402
from gan_study.study.train.batched import BATCHABLE_LOSSES, BatchedTrials, TrialSettings  # noqa: E402
from gan_study.study.hardware import cpu_name  # noqa: E402

PHASE_ONE = ("mnist", "fashion_mnist")  # × 8 losses × 100 runs
RUNS_PER_LOSS_AND_DATA_SET = 100


def validated(overrides: list[str]):
    """A run's config as gan-train validates it."""
    from gan_study.launch.config_tree import compose_config
    from gan_study.study.config import validate

    return validate(compose_config("config", overrides))


def paper_run(dataset: str) -> tuple[int, int]:
    """(D steps, evaluations) of one run of the paper's protocol on `dataset`, from its config."""
    cfg = validated([f"dataset={dataset}", "eval=none"])
    return cfg.total_steps, len(cfg.eval_steps)


def paper_steps() -> int:
    """15,625: the D steps of one MNIST run, the unit of "one trial" below."""
    return paper_run("mnist")[0]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="few steps, batch 4, K up to 2, 28 px: seconds on a CPU")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per contender and round (default 100)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2)")
    parser.add_argument("--shapes", default=None, help="image sizes (default 28,32,64)")
    parser.add_argument("--losses", default=",".join(available_losses()))
    parser.add_argument("--ks", default=None, help="trials per device (default 1,2,4,8,16)")
    parser.add_argument("--fid-images", type=int, default=None, help="images through the Inception (default 10000)")
    parser.add_argument("--fid-batch", type=int, default=None, help="Inception batch (default 500)")
    args = parser.parse_args()
    quick = {"steps": 1, "rounds": 1, "shapes": "28", "ks": "1,2", "fid_images": 2, "fid_batch": 2}
    full = {"steps": 100, "rounds": 2, "shapes": "28,32,64", "ks": "1,2,4,8,16", "fid_images": 10000,
            "fid_batch": 500}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.batch, args.warm_up = (4, 1) if args.quick else (64, 10)
    return args


def random_images(size: int, channels: int, n: int = 2048) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, size, size, channels), dtype=np.uint8)


# -- 1. throughput per loss and shape -------------------------------------------------------------

def throughput(args, device: torch.device) -> list[dict]:
    rows = []
    for size in (int(s) for s in args.shapes.split(",")):
        shape = SHAPES[size]
        images = random_images(size, shape[0])
        for loss_name in args.losses.split(","):
            racers = compare(loss_name, shape, images, args.steps, args.rounds, ("fp32", "tf32", "bf16"), device,
                             args.batch, args.warm_up)
            rates = [racer.images_per_s() for racer in racers]
            rows.append({"loss": loss_name, "size": size, "rates": rates,
                         "finite": all(racer.finite() for racer in racers)})
            print(f"  trained {loss_name} at {size} px", file=sys.stderr, flush=True)
    return rows


# -- 2. resume ------------------------------------------------------------------------------------

def resume_check(args, device: torch.device) -> str:
    """ns_gan on Triangles (28×28, generated here): N steps in one go vs N/2, an interruption, N/2 more."""
    from gan_study.study.train import run_training
    from gan_study.study.train.checkpoint import load_checkpoint

    steps = 4 if args.quick else 200
    work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    overrides = ["model=ns_gan", "dataset=triangles", "eval=none", f"device={device}", f"data_root={work / 'data'}",
                 f"train.steps={steps}", f"train.eval_every_steps={steps // 2}", f"train.batch_size={args.batch}",
                 "train.sample_grid=0", "train.keep_checkpoint=true", "train.train_size=2048"]
    cfg = validated(overrides)
    run_training(cfg, work / "straight")
    calls = iter(range(10 ** 9))
    interrupted = run_training(cfg, work / "resumed", should_stop=lambda: next(calls) == steps // 2)
    resumed = run_training(cfg, work / "resumed")
    if (interrupted.status, resumed.status, resumed.resumed_from_step) != ("interrupted", "completed", steps // 2):
        return f"NOT RESUMED: {interrupted.status} then {resumed.status} from {resumed.resumed_from_step}"
    first, second = (load_checkpoint(work / run / "checkpoint.pt", torch.device("cpu")) for run in ("straight", "resumed"))
    difference = max(float((first[net][name].double() - second[net][name].double()).abs().max())
                     for net in ("generator", "discriminator") for name in first[net])
    return "bitwise equal" if difference == 0 else f"max |Δweight| = {difference:.1e}"


# -- 3. FID ----------------------------------------------------------------------------------------

@torch.no_grad()
def fid_seconds(args, device: torch.device) -> tuple[float, str]:
    """Seconds of one FID-10k evaluation: generate, preprocess and encode 10k images, statistics, distance."""
    torch.manual_seed(0)
    net = fid_inception_v3().to(device).eval()
    generator = get_loss("ns_gan")().build_networks((1, 28, 28), 64, True, "lrelu").generator.to(device).eval()
    features = []

    def encode(n: int) -> None:
        for start in range(0, n, args.fid_batch):
            z = torch.rand(min(args.fid_batch, n - start), 64, device=device) * 2 - 1
            features.append(pool3_features(net, inception_input(generator(z))))

    encode(min(args.fid_batch, 2))  # warm-up
    features.clear()
    synchronize(device)
    started = time.perf_counter()
    encode(args.fid_images)
    synchronize(device)
    encoding = (time.perf_counter() - started) * 10000 / args.fid_images
    pool3 = torch.cat(features)
    real = FeatureStatistics.of(pool3.flip(0))
    root = covariance_root(real.covariance, device)  # cached with the real statistics: paid once
    started = time.perf_counter()
    fake = FeatureStatistics.of(pool3)
    distance = frechet_distance_with_sqrt(real.mean, real.covariance, root, fake.mean, fake.covariance, device)
    synchronize(device)
    statistics = time.perf_counter() - started
    how = "measured" if args.fid_images >= 10000 else f"Inception pass extrapolated from {args.fid_images} images"
    assert math.isfinite(distance)
    return encoding + statistics, f"{how}; batch {args.fid_batch}; statistics and distance {statistics:.1f} s"


# -- 4. trials per device-hour ----------------------------------------------------------------------

def _process_trial(device_name: str, steps: int, batch: int, warm_up: int, threads: int, start, results) -> None:
    """One packed trial in its own process: ns_gan 28×28; after warm-up all K start timing together."""
    torch.set_num_threads(threads)
    device = torch.device(device_name)
    contender = Contender("ns_gan", SHAPES[28], resident_batches(random_images(28, 1), device, batch), fused=True,
                          device=device, batch=batch, warm_up=warm_up)
    start.wait()
    contender.run(steps)
    results.put(1 / contender.timings[-1])


def packed_steps_per_s(k: int, args, device: torch.device, steps: int) -> float:
    """Summed steps/s of K processes training at the same time on one device."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(k), context.Queue()
    threads = max(1, len(os.sched_getaffinity(0)) // k)
    workers = [context.Process(target=_process_trial,
                               args=(str(device), steps, args.batch, args.warm_up, threads, start, results))
               for _ in range(k)]
    for worker in workers:
        worker.start()
    rates = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    return sum(rates)


def trials_per_hour(args, device: torch.device) -> list[dict]:
    rows, unit = [], paper_steps()
    steps = args.steps * args.rounds
    data = random_images(28, 1)
    train_set = ImageSet(torch.from_numpy(data).permute(0, 3, 1, 2).contiguous(), None, "bench", "train")
    for k in (int(x) for x in args.ks.split(",")):
        processes = packed_steps_per_s(k, args, device, steps)
        trials = [TrialSettings(seed, 2e-4, 0.5) for seed in range(k)]
        group = BatchedTrials(get_loss("ns_gan")(), trials, train_set, n_disc=1, batch_size=args.batch, z_dim=64,
                              device=device)
        group.step(), group.step()  # warm-up
        synchronize(device)
        started = time.perf_counter()
        for _ in range(steps):
            logs = group.step()
        synchronize(device)
        batched = k * steps / (time.perf_counter() - started)
        assert bool(torch.isfinite(logs["loss_d"]).all())
        rows.append({"k": k, "processes": processes * 3600 / unit, "batched": batched * 3600 / unit})
        print(f"  K = {k} done", file=sys.stderr, flush=True)
    return rows


# -- the report -------------------------------------------------------------------------------------

def main() -> None:
    args = parse()
    device = torch.device(args.device)
    started = time.perf_counter()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"CPU ({cpu_name()}, {torch.get_num_threads()} threads)"
    print(f"machine: {name}; torch {torch.__version__}; batch {args.batch}")
    print(f"command: python benchmarks/gpu_check.py {' '.join(sys.argv[1:])}".rstrip() + "\n")

    rows = throughput(args, device)
    print("| loss | shape | reference loop img/s | fp32 img/s | TF32 img/s | bf16 img/s | fp32 speed-up | "
          "bf16 speed-up | finite |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        base, fp32, tf32, bf16 = row["rates"]
        shape = "×".join(map(str, SHAPES[row["size"]]))
        print(f"| {row['loss']} | {shape} | {base:.1f} | {fp32:.1f} | {tf32:.1f} | {bf16:.1f} | {fp32 / base:.2f}× | "
              f"{bf16 / base:.2f}× | {'yes' if row['finite'] else 'NO'} |")

    print(f"\nresume (ns_gan, Triangles, run_training interrupted half-way): {resume_check(args, device)}")
    fid, how = fid_seconds(args, device)
    print(f"FID-10k: {fid:.1f} s per evaluation ({how})\n")

    packing = trials_per_hour(args, device)
    print("| K | trials / device-hour, K processes | trials / device-hour, batched (one process) | batched vs K=1 |")
    print("|---|---|---|---|")
    for row in packing:
        print(f"| {row['k']} | {row['processes']:.4g} | {row['batched']:.4g} | "
              f"{row['batched'] / packing[0]['batched']:.2f}× |")

    project(rows, packing, fid, args.batch)
    print(f"\ntotal time of this check: {time.perf_counter() - started:.0f} s")


def project(rows: list[dict], packing: list[dict], fid: float, batch: int) -> None:
    """GPU-hours of phase one from the measured 28×28 rates, the best packing gain and the FID cost."""
    at_28 = {row["loss"]: row["rates"][1] / batch for row in rows if row["size"] == 28}  # fp32 steps/s, one trial
    if not at_28:
        return
    single = packing[0]["processes"]
    gains = {"processes": max(row["processes"] for row in packing) / single,
             "batched": max(row["batched"] for row in packing) / single}
    runs = {dataset: paper_run(dataset) for dataset in PHASE_ONE}
    n_runs = len(at_28) * RUNS_PER_LOSS_AND_DATA_SET * len(runs)
    print(f"\nProjection of the paper's first phase, fp32, batch {batch}: {len(at_28)} losses × "
          f"{RUNS_PER_LOSS_AND_DATA_SET} runs × {len(runs)} data sets = {n_runs:,} runs; "
          + "; ".join(f"{d}: {steps:,} steps, {evals} FID-10k evaluations per run" for d, (steps, evals) in runs.items())
          + "; steps/s of one trial from the fp32 column at 28 px; packing gain = best trials/device-hour over K = 1 "
          "by processes, measured on ns_gan")
    total = 0.0
    for loss_name, steps_per_s in at_28.items():
        way = "batched" if loss_name in BATCHABLE_LOSSES and gains["batched"] > gains["processes"] else "processes"
        for dataset, (steps, evaluations) in runs.items():
            seconds = steps / (steps_per_s * gains[way]) + evaluations * fid
            total += RUNS_PER_LOSS_AND_DATA_SET * seconds
            print(f"  {loss_name} on {dataset}: {steps:,} / ({steps_per_s:.4g} steps/s × {gains[way]:.4g} packing "
                  f"by {way}) + {evaluations} × {fid:.4g} s FID = {seconds:.0f} s per run, × "
                  f"{RUNS_PER_LOSS_AND_DATA_SET} runs")
    print(f"  total: {total / 3600:.2f} device-hours, {total / n_runs:.1f} s per run "
          "(goal: ≤ 8 H100-hours for 1,600 runs, ≈ 18 s per run)")


if __name__ == "__main__":
    main()
