"""Training throughput per loss and resolution: gan-study's step vs the public reference-style loop.

Baseline = how the public PyTorch GAN collections train: a torchvision-style Dataset decoding one PIL
image at a time through `transforms.ToTensor()`, a `DataLoader` (shuffle, batch 64), plain `Adam`.
Ours = the same networks and loss step, data resident as one tensor on the device, fused Adam.
Both run the paper's step (one D update, G every n_disc steps) side by side in one invocation.
Also: the achieved FLOP rate of our step against this machine's measured float32 matmul peak.

    python benchmarks/bench_train.py [--steps 12] [--threads 2] [--losses ns_gan,wgan_gp] [--shapes 28,32,64]
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode
from torchvision import transforms

from models.losses import Networks, Optimizers, available_losses, get_loss
from study.data import ImageSet
from study.train.batches import BatchStream

SHAPES = {28: (1, 28, 28), 32: (3, 32, 32), 64: (3, 64, 64)}
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


def build(loss_name: str, shape, fused: bool):
    torch.manual_seed(0)
    loss = get_loss(loss_name)()
    nets = loss.build_networks(shape, 64, loss_name not in ("wgan_gp", "began"), "lrelu")
    make = (lambda p: torch.optim.Adam(p, lr=1e-4, betas=(0.5, 0.999), fused=True)) if fused else \
        (lambda p: torch.optim.Adam(p, lr=1e-4, betas=(0.5, 0.999)))
    return loss, nets, Optimizers(make(nets.generator.parameters()), make(nets.discriminator.parameters()))


def prior(loss, batch):
    return (torch.rand(batch, 64) * 2 - 1) if loss.prior == "uniform" else torch.randn(batch, 64)


def run_steps(loss, nets: Networks, optimizers, batches, steps: int, n_disc: int) -> float:
    """Seconds per step, after two warm-up steps."""
    timings = []
    for step in range(steps + 2):
        started = time.perf_counter()
        real = next(batches)
        z = prior(loss, real.shape[0])
        loss.train_step(nets, optimizers, real, z, step == 0 or (step - 1) % n_disc == 0,
                        lambda: prior(loss, real.shape[0]))
        timings.append(time.perf_counter() - started)
    return float(np.median(timings[2:]))


def ours(loss_name, shape, images_u8, steps):
    loss, nets, optimizers = build(loss_name, shape, fused=True)
    data = ImageSet(torch.from_numpy(images_u8).permute(0, 3, 1, 2).contiguous(), None, "bench", "train")
    stream = BatchStream(len(data), 64, seed=0)
    batches = iter(lambda: data.batch(stream.next()), None)
    return run_steps(loss, nets, optimizers, batches, steps, N_DISC.get(loss_name, 1))


def baseline(loss_name, shape, images_u8, steps):
    loss, nets, optimizers = build(loss_name, shape, fused=False)
    squeeze = images_u8[..., 0] if shape[0] == 1 else images_u8
    loader = DataLoader(PILImages(squeeze), batch_size=64, shuffle=True, drop_last=True)

    def endless():
        while True:
            for images, _ in loader:
                yield images

    return run_steps(loss, nets, optimizers, endless(), steps, N_DISC.get(loss_name, 1))


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
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--losses", default=",".join(available_losses()))
    parser.add_argument("--shapes", default="28,32,64")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_peak()
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, device cpu; float32 matmul peak {peak / 1e9:.1f} GFLOP/s")
    print(f"command: python benchmarks/bench_train.py --steps {args.steps} --threads {args.threads} "
          f"--losses {args.losses} --shapes {args.shapes}\n")
    print("| loss | shape | baseline img/s | gan-study img/s | speed-up | GFLOP/step | achieved GFLOP/s | % of matmul peak |")
    print("|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for size in (int(s) for s in args.shapes.split(",")):
        shape = SHAPES[size]
        images = rng.integers(0, 256, size=(2048, size, size, shape[0]), dtype=np.uint8)
        for loss_name in args.losses.split(","):
            base = baseline(loss_name, shape, images, args.steps)
            fast = ours(loss_name, shape, images, args.steps)
            flops = step_flops(loss_name, shape)
            rate = "— | — | —" if flops is None else \
                f"{flops / 1e9:.2f} | {flops / fast / 1e9:.1f} | {100 * flops / fast / peak:.0f}%"
            print(f"| {loss_name} | {'×'.join(map(str, shape))} | {64 / base:.0f} | {64 / fast:.0f} | "
                  f"{base / fast:.2f}× | {rate} |", flush=True)


if __name__ == "__main__":
    main()
