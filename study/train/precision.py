"""The arithmetic of the training step: float32 (the paper's) or bfloat16 autocast (an opt-in speed switch).

bfloat16 autocast runs convolutions and matrix products in bfloat16 with float32 accumulation, while weights,
optimiser state and batch-norm statistics stay float32. It keeps float32's exponent range, so unlike float16 it
needs no loss scaling, and it works through the gradient penalties' double backward. It changes the numbers a
run produces (so runs with it are not the paper's protocol), and it only pays where the hardware has bfloat16
units: CPUs with AVX512-BF16 or AMX, and GPUs from Ampere on. `benchmarks/bench_train.py` measures it.
TF32 (`set_tf32`) is the other switch of the arithmetic, for float32 on NVIDIA GPUs.
"""
from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

PRECISIONS = ("fp32", "bf16")


def step_precision(precision: str, device: torch.device) -> ContextManager:
    """The context a training step runs in: nothing for fp32, `torch.autocast` to bfloat16 for bf16."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not allowed: one of {list(PRECISIONS)}")
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def set_tf32(enabled: bool) -> None:
    """TensorFloat-32 for float32 matrix products and convolutions on NVIDIA GPUs from Ampere on: on or off.

    The paper's arithmetic is float32, so `train.tf32=false` (the default) turns TF32 off for both, although
    PyTorch's own default already lets cuDNN convolutions use it. TF32 keeps float32's range with a 10-bit
    mantissa in the products (accumulation stays float32); it changes the numbers, and does nothing on CPUs.
    """
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
