"""Which machine a number was computed on, as far as it changes the number.

Training is deterministic on one kind of machine, not across kinds: the CPU's vector instructions (torch's
kernels for AVX2 and AVX-512 round differently), the thread count and the accelerator change the last bits of
every step, and a GAN amplifies them over hundreds of steps into different scores. So each run records its
hardware, a resume on other hardware lists the change, and a report lists the machines its trials ran on.
"""
from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

HARDWARE_KEYS = ("cpu", "cpu_capability", "threads", "accelerator", "torch")


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows of it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_hardware(device: Any) -> dict[str, Any]:
    """`HARDWARE_KEYS` for a run on `device` in this process (after its thread count is set)."""
    import torch

    device = torch.device(device)
    accelerator = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    return {"cpu": cpu_name(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(), "accelerator": accelerator, "torch": torch.__version__}


def hardware_changes(before: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, list[Any]]:
    """`{"hardware.<key>": [before, now]}` for each key that differs; nothing when `before` is unknown."""
    if not before:
        return {}
    return {f"hardware.{key}": [before.get(key), now.get(key)] for key in HARDWARE_KEYS
            if before.get(key) != now.get(key)}
