"""Each run records the hardware it ran on; a resume on other hardware lists the change (study/hardware.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_study.study import hardware
from gan_study.study.hardware import describe_hardware, hardware_changes
from gan_study.study.train import run_training
from gan_study.study.train.record import RunRecord
from gan_study.study.train.run_folder import RunFolder
from tests.train.test_run_identity import tiny


def model_name_in_cpuinfo() -> str:
    lines = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
    return lines[0].partition(":")[2].strip()


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="reads /proc/cpuinfo (Linux) for the known answer")
def test_the_description_names_this_cpu_its_kernels_threads_and_torch():
    described = describe_hardware("cpu")
    assert described == {"cpu": model_name_in_cpuinfo(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                         "threads": torch.get_num_threads(), "accelerator": "cpu", "torch": torch.__version__}


def test_changes_name_each_differing_key_and_nothing_when_the_first_machine_is_unknown():
    now = {"cpu": "AMD EPYC", "cpu_capability": "AVX2", "threads": 2, "accelerator": "cpu", "torch": "2.14.1"}
    assert hardware_changes(None, now) == {} and hardware_changes({}, now) == {}
    assert hardware_changes(dict(now), now) == {}
    before = {**now, "cpu_capability": "AVX512", "threads": 8}
    assert hardware_changes(before, now) == {"hardware.cpu_capability": ["AVX512", "AVX2"],
                                             "hardware.threads": [8, 2]}


def test_a_run_records_its_hardware_and_a_resume_elsewhere_lists_the_change(data_root, tmp_path, monkeypatch):
    calls = {"n": 0}

    def stop_after_three_steps() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    here = describe_hardware("cpu")
    elsewhere = {**here, "cpu": "Another CPU", "cpu_capability": "AVX512 (another machine)"}
    with monkeypatch.context() as patch:  # the first process "ran" on another machine
        patch.setattr("gan_study.study.train.run.describe_hardware", lambda device: dict(elsewhere))
        interrupted = run_training(tiny(data_root), tmp_path, should_stop=stop_after_three_steps)
    assert interrupted.status == "interrupted" and interrupted.hardware == elsewhere
    assert RunRecord.read(RunFolder(tmp_path).record).hardware == elsewhere

    resumed = run_training(tiny(data_root), tmp_path)
    assert resumed.status == "completed" and resumed.resumed_from_step == 3
    assert resumed.hardware == here and resumed.hardware["threads"] == 1  # tiny sets train.threads=1
    assert resumed.runtime_changes == {"hardware.cpu": ["Another CPU", here["cpu"]],
                                       "hardware.cpu_capability": ["AVX512 (another machine)", here["cpu_capability"]]}
    assert RunRecord.read(RunFolder(tmp_path).record).runtime_changes == resumed.runtime_changes


def test_cpu_name_falls_back_to_platform_without_cpuinfo(monkeypatch):
    monkeypatch.setattr(hardware, "Path", lambda _: Path("/nonexistent/cpuinfo"))
    monkeypatch.setattr(hardware.platform, "processor", lambda: "x86_64-test")
    assert hardware.cpu_name() == "x86_64-test"
