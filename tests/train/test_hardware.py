"""Each run records the hardware it ran on; a resume on other hardware lists the change (study/hardware.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_study.study import hardware
from gan_study.study.hardware import HARDWARE_KEYS, cpu_identity, describe_hardware, hardware_changes, kernel_libraries
from gan_study.study.train import run_training
from gan_study.study.train.record import RunRecord
from gan_study.study.train.run_folder import RunFolder
from tests.train.test_run_identity import tiny

ZEN5_FLAGS = "fpu sse sse2 avx f16c fma avx2 avx512f avx512bw avx512vl avx512_bf16 avx512_vnni avx512_vp2intersect"
ZEN4_FLAGS = "fpu sse sse2 avx f16c fma avx2 avx512f avx512bw avx512vl avx512_bf16 avx512_vnni"


def cpuinfo(family: int, model: int, flags: str) -> str:
    """Two processors of a virtual machine whose model name is masked, as /proc/cpuinfo writes them."""
    first = (f"processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: {family}\nmodel\t\t: {model}\n"
             f"model name\t: AMD EPYC\nstepping\t: 1\nflags\t\t: {flags} hypervisor\n")
    return first + "\n" + first.replace("processor\t: 0", "processor\t: 1")


TORCH_CONFIG = """PyTorch built with:
  - Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build 20240605 for Intel(R) 64 architecture applications
  - Intel(R) MKL-DNN v3.12.0 (Git Hash 80afa71049cd69a3df32adcccb623b12cd7baa22)
  - CPU capability usage: AVX512
"""


def cpuinfo_field(name: str) -> str:
    lines = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.split(":")[0].strip() == name]
    return lines[0].partition(":")[2].strip()


def test_two_machines_with_the_same_name_and_capability_are_told_apart_by_family_model_and_flags():
    zen5, zen4 = cpu_identity(cpuinfo(26, 2, ZEN5_FLAGS)), cpu_identity(cpuinfo(25, 17, ZEN4_FLAGS))
    assert zen5 == {"cpu": "AMD EPYC", "cpu_vendor": "AuthenticAMD", "cpu_family": 26, "cpu_model": 2,
                    "cpu_stepping": 1, "cpu_flags": "avx avx2 avx512_bf16 avx512_vnni avx512_vp2intersect avx512bw "
                                                  "avx512f avx512vl f16c fma"}  # not fpu, sse or hypervisor
    assert hardware_changes({**zen4, "cpu_capability": "AVX512"}, {**zen5, "cpu_capability": "AVX512"}) == {
        "hardware.cpu_family": [25, 26], "hardware.cpu_model": [17, 2],
        "hardware.cpu_flags": [zen4["cpu_flags"], zen5["cpu_flags"]]}


def test_the_kernel_libraries_are_read_from_torchs_build_and_the_loaded_blas():
    blas = [{"user_api": "blas", "internal_api": "openblas", "version": "0.3.31.188.0", "architecture": "Haswell"},
            {"user_api": "blas", "internal_api": "openblas", "version": "0.3.30", "architecture": "Haswell"},
            {"user_api": "openmp", "internal_api": "openmp", "version": None}]
    assert kernel_libraries(TORCH_CONFIG, blas) == {"onednn": "3.12.0", "mkl": "2024.2",
                                                    "openblas": "0.3.30 Haswell, 0.3.31.188.0 Haswell"}
    assert kernel_libraries("PyTorch built with:\n", []) == {"onednn": None, "mkl": None, "openblas": None}


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="reads /proc/cpuinfo (Linux) for the known answer")
def test_the_description_names_this_cpu_its_kernels_libraries_threads_and_torch():
    described = describe_hardware("cpu")
    assert list(described) == list(HARDWARE_KEYS)
    assert (described["cpu"], described["cpu_vendor"], described["cpu_family"], described["cpu_stepping"]) == \
        (cpuinfo_field("model name"), cpuinfo_field("vendor_id"), int(cpuinfo_field("cpu family")),
         int(cpuinfo_field("stepping")))
    assert set(described["cpu_flags"].split()) <= set(cpuinfo_field("flags").split()) and \
        ("avx2" in described["cpu_flags"].split()) == ("avx2" in cpuinfo_field("flags").split())
    assert (described["cpu_capability"], described["threads"], described["accelerator"], described["torch"]) == \
        (torch.backends.cpu.get_cpu_capability(), torch.get_num_threads(), "cpu", torch.__version__)
    assert f"MKL-DNN v{described['onednn']} " in torch.__config__.show()


def test_changes_name_each_differing_key_and_nothing_the_first_record_did_not_know():
    now = {"cpu": "AMD EPYC", "cpu_capability": "AVX2", "threads": 2, "accelerator": "cpu", "torch": "2.14.1",
           "cpu_flags": "avx avx2 fma", "onednn": "3.12.0"}
    assert hardware_changes(None, now) == {} and hardware_changes({}, now) == {}
    assert hardware_changes(dict(now), now) == {}
    before = {**now, "cpu_capability": "AVX512", "threads": 8, "onednn": "3.7.1"}
    assert hardware_changes(before, now) == {"hardware.cpu_capability": ["AVX512", "AVX2"],
                                             "hardware.threads": [8, 2], "hardware.onednn": ["3.7.1", "3.12.0"]}
    made_before_the_flags_were_recorded = {k: v for k, v in now.items() if k not in ("cpu_flags", "onednn")}
    assert hardware_changes(made_before_the_flags_were_recorded, now) == {}


def test_a_run_records_its_hardware_and_a_resume_elsewhere_lists_the_change(data_root, tmp_path, monkeypatch):
    calls = {"n": 0}

    def stop_after_three_steps() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    here = describe_hardware("cpu")
    elsewhere = {**here, "cpu": "Another CPU", "cpu_flags": "avx avx2 avx512f", "cpu_capability": "AVX512 (another)"}
    with monkeypatch.context() as patch:  # the first process "ran" on another machine
        patch.setattr("gan_study.study.train.run.describe_hardware", lambda device: dict(elsewhere))
        interrupted = run_training(tiny(data_root), tmp_path, should_stop=stop_after_three_steps)
    assert interrupted.status == "interrupted" and interrupted.hardware == elsewhere
    assert RunRecord.read(RunFolder(tmp_path).record).hardware == elsewhere

    resumed = run_training(tiny(data_root), tmp_path)
    assert resumed.status == "completed" and resumed.resumed_from_step == 3
    assert resumed.hardware == here and resumed.hardware["threads"] == 1  # tiny sets train.threads=1
    assert resumed.runtime_changes == {"hardware.cpu": ["Another CPU", here["cpu"]],
                                       "hardware.cpu_flags": ["avx avx2 avx512f", here["cpu_flags"]],
                                       "hardware.cpu_capability": ["AVX512 (another)", here["cpu_capability"]]}
    assert RunRecord.read(RunFolder(tmp_path).record).runtime_changes == resumed.runtime_changes


def test_without_cpuinfo_the_name_comes_from_platform_and_the_rest_is_unknown(monkeypatch):
    monkeypatch.setattr(hardware, "Path", lambda _: Path("/nonexistent/cpuinfo"))
    monkeypatch.setattr(hardware.platform, "processor", lambda: "x86_64-test")
    assert hardware.cpu_name() == "x86_64-test"
    assert cpu_identity("") == {"cpu": "x86_64-test", "cpu_vendor": None, "cpu_family": None, "cpu_model": None,
                                "cpu_stepping": None, "cpu_flags": None}
