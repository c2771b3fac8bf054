"""Training throughput per loss and resolution: gan-study's step vs the public reference-style loop.

Baseline = how the public PyTorch GAN collections train: a torchvision-style Dataset decoding one PIL
image at a time through `transforms.ToTensor()`, a `DataLoader` (shuffle, batch 64), plain `Adam`.
Ours = the same networks and loss step, data resident as one tensor on the device, fused Adam, in float32
(the default) and with `train.precision=bf16` (bfloat16 autocast, an opt-in that changes the numbers).
All run the paper's step (one D update, G every n_disc steps) side by side in one invocation, interleaved
round by round so that a machine's load drifts over all of them alike; each round's mean step is timed
and the median round reported. `benchmarks/gpu_check.py` runs the same contenders on a GPU.
Also: the achieved FLOP rate of our step against this machine's measured float32 matmul peak.

    python benchmarks/bench_train.py [--steps 12] [--rounds 3] [--threads 2] [--losses ns_gan,wgan_gp] [--shapes 28,32,64]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode
from torchvision import transforms

from gan_study.models.losses import Networks, Optimizers, available_losses, get_loss
from gan_study.study.data import ImageSet
from gan_study.study.train.batches import BatchStream
from gan_study.study.train.precision import set_tf32, step_precision
from gan_study.study.hardware import cpu_name

SHAPES = {28: (1, 28, 28), 32: (3, 32, 32), 64: (3, 64, 64)}
CPU = torch.device("cpu")
N_DISC = {"wgan": 5, "wgan_gp": 5, "began": 5}  # the paper's defaults; others update G every step


class PILImages(Dataset):
    """What torchvision.datasets.MNIST/CIFAR10 do per item: uint8 array → PIL image → transform."""

    def __init__(self, images: np.ndarray):
        self.images = images  # N, H, W[, C] uint8
        self.to_tensor = transforms.ToTensor()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.to_tensor(Image.fromarray(self.images[index])), 0


def build(loss_name: str, shape, fused: bool, device: torch.device = CPU):
    torch.manual_seed(0)
    loss = get_loss(loss_name)().to(device)
    built = loss.build_networks(shape, 64, loss_name not in ("wgan_gp", "began"), "lrelu")
    nets = Networks(built.generator.to(device), built.discriminator.to(device))
    make = (lambda p: torch.optim.Adam(p, lr=1e-4, betas=(0.5, 0.999), fused=True)) if fused else \
        (lambda p: torch.optim.Adam(p, lr=1e-4, betas=(0.5, 0.999)))
    return loss, nets, Optimizers(make(nets.generator.parameters()), make(nets.discriminator.parameters()))


def prior(loss, batch, device: torch.device = CPU):
    return (torch.rand(batch, 64, device=device) * 2 - 1) if loss.prior == "uniform" else \
        torch.randn(batch, 64, device=device)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a GPU runs asynchronously; a CPU has nothing queued)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Contender:
    """One way of training: its networks, optimisers, batch source and arithmetic, timed `steps` at a time.

    `precision` is fp32, tf32 (float32 with TF32 products on NVIDIA GPUs; the same as fp32 elsewhere) or bf16.
    On a GPU the steps of one call are queued back to back and timed with one synchronisation at the end.
    """

    def __init__(self, loss_name: str, shape, batches, fused: bool, precision: str = "fp32",
                 device: torch.device = CPU, batch: int = 64, warm_up: int = 2):
        self.loss, self.nets, self.optimizers = build(loss_name, shape, fused, device)
        self.batches, self.device, self.batch = batches, device, batch
        self.precision, self.n_disc = precision, N_DISC.get(loss_name, 1)
        self.step, self.timings, self.logs = 0, [], {}
        self.run(warm_up)  # not timed
        self.timings.clear()

    def run(self, steps: int) -> None:
        set_tf32(self.precision == "tf32")
        started = time.perf_counter()
        for _ in range(steps):
            real = next(self.batches)
            z = prior(self.loss, real.shape[0], self.device)
            with step_precision("bf16" if self.precision == "bf16" else "fp32", self.device):
                self.logs = self.loss.train_step(self.nets, self.optimizers, real, z,
                                                 self.step == 0 or (self.step - 1) % self.n_disc == 0,
                                                 lambda: prior(self.loss, real.shape[0], self.device))
            self.step += 1
        synchronize(self.device)
        self.timings.append((time.perf_counter() - started) / steps)
        set_tf32(False)

    def images_per_s(self) -> float:
        return self.batch / float(np.median(self.timings))

    def finite(self) -> bool:
        """Whether every value of the last step is finite."""
        return all(bool(torch.isfinite(value).all()) for value in self.logs.values())


def resident_batches(images_u8, device: torch.device = CPU, batch: int = 64):
    """gan-study's input: the data set as one tensor on the device, batches by index."""
    data = ImageSet(torch.from_numpy(images_u8).permute(0, 3, 1, 2).contiguous(), None, "bench", "train").to(device)
    stream = BatchStream(len(data), batch, seed=0, device=device)
    return iter(lambda: data.batch(stream.next()), None)


def loader_batches(images_u8, shape, device: torch.device = CPU, batch: int = 64):
    """The reference input: a DataLoader decoding one PIL image at a time, each batch then copied to the device."""
    squeeze = images_u8[..., 0] if shape[0] == 1 else images_u8
    loader = DataLoader(PILImages(squeeze), batch_size=batch, shuffle=True, drop_last=True)
    while True:
        yield from (images.to(device) for images, _ in loader)


def contenders(loss_name, shape, images_u8, precisions=("fp32", "bf16"), device: torch.device = CPU,
               batch: int = 64, warm_up: int = 2) -> list[Contender]:
    """The reference-style loop (float32, unfused Adam, DataLoader), then ours in each of `precisions`."""
    return [Contender(loss_name, shape, loader_batches(images_u8, shape, device, batch), fused=False,
                      device=device, batch=batch, warm_up=warm_up)] + \
        [Contender(loss_name, shape, resident_batches(images_u8, device, batch), fused=True, precision=precision,
                   device=device, batch=batch, warm_up=warm_up) for precision in precisions]


def compare(loss_name, shape, images_u8, steps: int, rounds: int, precisions=("fp32", "bf16"),
            device: torch.device = CPU, batch: int = 64, warm_up: int = 2) -> list[Contender]:
    """The contenders after `rounds` interleaved rounds of `steps` each (a drifting load hits them alike)."""
    racers = contenders(loss_name, shape, images_u8, precisions, device, batch, warm_up)
    for _ in range(rounds):
        for racer in racers:
            racer.run(steps)
    return racers


def step_flops(loss_name, shape) -> float | None:
    """FLOPs of the average step: (n_disc − 1) D-only steps and one D+G step per n_disc steps.

    None where torch's FlopCounterMode cannot follow the step (the double backward of gradient penalties).
    """
    loss, nets, optimizers = build(loss_name, shape, fused=True)
    real = torch.rand(64, *shape)

    def count(update_generator: bool) -> float:
        with FlopCounterMode(display=False) as counter:
            loss.train_step(nets, optimizers, real, prior(loss, 64), update_generator, lambda: prior(loss, 64))
        return float(counter.get_total_flops())

    n_disc = N_DISC.get(loss_name, 1)
    try:
        return ((n_disc - 1) * count(False) + count(True)) / n_disc
    except RuntimeError:
        return None


def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n ** 3 * repeats / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per contender and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median over all their steps)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--losses", default=",".join(available_losses()))
    parser.add_argument("--shapes", default="28,32,64")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_peak()
    print(f"machine: {cpu_name()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, device cpu; float32 matmul peak {peak / 1e9:.1f} GFLOP/s")
    print(f"command: python benchmarks/bench_train.py --steps {args.steps} --rounds {args.rounds} "
          f"--threads {args.threads} "
          f"--losses {args.losses} --shapes {args.shapes}\n")
    print("| loss | shape | baseline img/s | gan-study fp32 img/s | speed-up | gan-study bf16 img/s | speed-up | "
          "GFLOP/step | fp32 GFLOP/s | fp32 % of matmul peak |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for size in (int(s) for s in args.shapes.split(",")):
        shape = SHAPES[size]
        images = rng.integers(0, 256, size=(2048, size, size, shape[0]), dtype=np.uint8)
        for loss_name in args.losses.split(","):
            base, fp32, bf16 = (racer.images_per_s() for racer in compare(loss_name, shape, images, args.steps,
                                                                         args.rounds))
            flops = step_flops(loss_name, shape)
            rate = "— | — | —" if flops is None else \
                f"{flops / 1e9:.2f} | {flops * fp32 / 64 / 1e9:.1f} | {100 * flops * fp32 / 64 / peak:.0f}%"
            print(f"| {loss_name} | {'×'.join(map(str, shape))} | {base:.0f} | {fp32:.0f} | {fp32 / base:.2f}× | "
                  f"{bf16:.0f} | {bf16 / base:.2f}× | {rate} |", flush=True)


if __name__ == "__main__":
    main()
