"""Which machine a number was computed on, as far as it changes the number.

Training is deterministic on one kind of machine, not across kinds: the kernels torch and the BLAS libraries pick
for the CPU (AVX2, AVX-512, AVX-512 with VP2INTERSECT, AMX...), the library versions, the thread count and the
accelerator change the last bits of every step, and a GAN amplifies them over hundreds of steps into different
scores. A CPU's model name says too little (a virtual machine's reads just "AMD EPYC" on a Zen 4 and a Zen 5
alike), so the record keeps what decides the kernels: the vendor, family, model and stepping the OS reports, the
instruction-set flags kernels dispatch on, and the oneDNN, MKL and OpenBLAS versions. Each run records its
hardware, a resume on other hardware lists the change, and a report lists the machines its trials ran on.
"""
from __future__ import annotations

import platform
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

HARDWARE_KEYS = ("cpu", "cpu_vendor", "cpu_family", "cpu_model", "cpu_stepping", "cpu_flags", "cpu_capability",
                 "threads", "accelerator", "torch", "onednn", "mkl", "openblas")

KERNEL_FLAGS = ("avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd",
                "avx512ifma", "avx512vbmi", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx512_vp2intersect",
                "amx_tile", "amx_bf16", "amx_int8", "amx_fp16")
"""The /proc/cpuinfo flags torch's, oneDNN's, MKL's and OpenBLAS's CPU kernels dispatch on (not all flags: a
hypervisor's or a microcode's flag changes no number)."""


def read_cpuinfo() -> str:
    """/proc/cpuinfo (Linux), or "" where there is none."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_identity(cpuinfo: str) -> dict[str, Any]:
    """The first processor's model name, vendor, family, model, stepping and kernel flags in /proc/cpuinfo's text;
    the name from `platform` and None for the rest where the text lacks them."""
    fields: dict[str, str] = {}
    for line in cpuinfo.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())

    def number(key: str) -> int | None:
        return int(fields[key]) if fields.get(key, "").isdigit() else None

    flags = set(fields.get("flags", "").split())
    return {"cpu": fields.get("model name") or platform.processor() or platform.machine(),
            "cpu_vendor": fields.get("vendor_id"), "cpu_family": number("cpu family"), "cpu_model": number("model"),
            "cpu_stepping": number("stepping"),
            "cpu_flags": " ".join(sorted(flags.intersection(KERNEL_FLAGS))) if "flags" in fields else None}


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows of it."""
    return cpu_identity(read_cpuinfo())["cpu"]


def kernel_libraries(torch_config: str, loaded: Iterable[Mapping[str, Any]]) -> dict[str, str | None]:
    """oneDNN's and MKL's versions from torch's build description (`torch.__config__.show()`), and every loaded
    OpenBLAS's version and kernel architecture (threadpoolctl's `threadpool_info()`: numpy's and scipy's)."""
    onednn = re.search(r"MKL-DNN v([\w.]+)", torch_config)
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", torch_config)
    openblas = sorted({f"{lib['version']} {lib.get('architecture')}" for lib in loaded
                       if lib.get("internal_api") == "openblas"})
    return {"onednn": onednn and onednn.group(1), "mkl": mkl and mkl.group(1), "openblas": ", ".join(openblas) or None}


def describe_hardware(device: Any) -> dict[str, Any]:
    """`HARDWARE_KEYS` for a run on `device` in this process (after its thread count is set)."""
    import scipy.linalg  # noqa: F401 - loads scipy's OpenBLAS, which FID's matrix square root uses
    import torch
    from threadpoolctl import threadpool_info  # scikit-learn's dependency

    device = torch.device(device)
    accelerator = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    described = {**cpu_identity(read_cpuinfo()), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                 "threads": torch.get_num_threads(), "accelerator": accelerator, "torch": torch.__version__,
                 **kernel_libraries(torch.__config__.show(), threadpool_info())}
    return {key: described[key] for key in HARDWARE_KEYS}


def hardware_changes(before: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, list[Any]]:
    """`{"hardware.<key>": [before, now]}` for each key that differs; nothing for a key `before` does not record
    (a record made before it was recorded), nor when `before` is unknown."""
    if not before:
        return {}
    return {f"hardware.{key}": [before[key], now.get(key)] for key in HARDWARE_KEYS
            if key in before and before[key] != now.get(key)}
