"""A run folder is resumed or reported only under its own protocol; runtime settings may change on resume;
a rejected config or a dry run writes nothing (gan-train, gan-sweep through their real CLIs)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from gan_study.study.config import TrainRunConfig, validate
from gan_study.study.protocol_keys import RUNTIME_KEYS, changed_leaves, protocol_hash, protocol_of, runtime_of
from gan_study.study.train import run_training
from gan_study.study.train.record import RunRecord
from gan_study.study.train.run_folder import RunFolder
from gan_study.study.train.run_identity import RunFolderMismatch
from tests.conftest import compose

ROOT = Path(__file__).resolve().parents[2]
TINY = ["dataset=triangles", "train=tiny", "eval=none"]


def tiny(data_root: Path, *overrides: str) -> TrainRunConfig:
    return validate(compose([*TINY, f"data_root={data_root}", *overrides]))


def cli(module: str, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def files_of(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in sorted(folder.rglob("*"))}


def test_every_runtime_key_is_a_key_of_the_run_config_and_only_protocol_keys_change_the_hash(data_root):
    config = tiny(data_root).to_dict()
    for key in RUNTIME_KEYS:  # a renamed setting would silently turn runtime into protocol
        *parents, last = key.split(".")
        assert last in (config[parents[0]] if parents else config), key
    runtime_only = tiny(data_root, "train.threads=3", "device=cpu", "data_root=/elsewhere", "train.fused_adam=false",
                        "train.log_every_steps=5", "cache_dir=/other").to_dict()
    assert protocol_of(runtime_only) == protocol_of(config) and protocol_hash(runtime_only) == protocol_hash(config)
    assert [key for key, _, _ in changed_leaves(runtime_of(config), runtime_of(runtime_only))] == sorted(
        ["cache_dir", "data_root", "device", "train.fused_adam", "train.log_every_steps", "train.threads"])
    for override in ("model.lr=0.001", "seed=1", "train.batch_size=8", "model=wgan"):
        other = tiny(data_root, override).to_dict()
        assert protocol_hash(other) != protocol_hash(config), override


@pytest.mark.slow
def test_multirun_gets_a_folder_per_protocol_and_a_folder_of_another_protocol_is_refused(data_root, tmp_path):
    common = [*TINY, f"data_root={data_root}"]
    multirun = cli("gan_study.study.cli.train", "-m", "model.lr=0.0001,0.001", *common, cwd=tmp_path)
    assert multirun.returncode == 0, multirun.stderr[-3000:]
    folders = {}
    for lr in (0.0001, 0.001):
        expected = tiny(data_root, f"model.lr={lr}").to_dict()
        folder = tmp_path / "runs" / f"ns_gan_triangles_seed0_{protocol_hash(expected)}"
        assert yaml.safe_load((folder / "config.yaml").read_text())["model"]["lr"] == lr
        assert RunRecord.read(folder / "record.json").status == "completed"
        assert (folder / "train.log").read_text().count("completed after 6 steps") == 1
        folders[lr] = folder
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(f.name for f in folders.values())

    before = files_of(folders[0.0001])
    stale = cli("gan_study.study.cli.train", f"run_dir={folders[0.0001]}", "model.lr=0.001", "train.batch_size=8",
                *common, cwd=tmp_path)
    assert stale.returncode == 2 and "Traceback" not in stale.stderr
    assert f"run_dir = '{folders[0.0001]}' holds a run made under another protocol configuration" in stale.stderr
    assert "2 key(s) differ (old -> new):\n  model.lr: 0.0001 -> 0.001\n  train.batch_size: 16 -> 8\n" in stale.stderr
    assert "run_dir=<another folder>" in stale.stderr and "settings it was made with" in stale.stderr
    assert files_of(folders[0.0001]) == before  # nothing read past the check, nothing written

    report = cli("gan_study.study.cli.train", f"run_dir={folders[0.0001]}", "model.lr=0.0001", "train.threads=2",
                 *common, cwd=tmp_path)  # another runtime setting: the same run, reported
    assert report.returncode == 0, report.stderr[-3000:]
    assert report.stdout.strip().splitlines()[-1].startswith(f"completed: {folders[0.0001]} after 6 steps")


def test_a_resume_may_change_runtime_settings_and_never_the_protocol(data_root, tmp_path):
    calls = {"n": 0}

    def stop_after_five_steps() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    interrupted = run_training(tiny(data_root), tmp_path, should_stop=stop_after_five_steps)
    assert interrupted.status == "interrupted" and interrupted.steps == 5 and interrupted.runtime_changes == {}
    checkpoint = RunFolder(tmp_path).checkpoint.read_bytes()
    with pytest.raises(RunFolderMismatch, match=r"1 key\(s\) differ \(old -> new\):\n  model\.beta1: 0\.0 -> 0\.9\n"):
        run_training(tiny(data_root, "model.beta1=0.9"), tmp_path)
    assert RunFolder(tmp_path).checkpoint.read_bytes() == checkpoint  # refused before any compute
    assert RunRecord.read(RunFolder(tmp_path).record).status == "interrupted"
    try:
        resumed = run_training(tiny(data_root, "train.threads=2", "train.log_every_steps=3"), tmp_path)
    finally:
        torch.set_num_threads(1)
    assert resumed.status == "completed" and resumed.resumed_from_step == 5 and resumed.steps == 6
    assert resumed.runtime_changes == {"train.log_every_steps": [2, 3], "train.threads": [1, 2],
                                       "hardware.threads": [1, 2]}  # the threads torch really ran with
    assert RunRecord.read(RunFolder(tmp_path).record).runtime_changes == resumed.runtime_changes
    assert yaml.safe_load(RunFolder(tmp_path).config.read_text())["train"]["threads"] == 1  # the run's start


def test_a_rejected_config_writes_nothing(tmp_path):
    rejected = cli("gan_study.study.cli.train", "model.lr=-1", f"data_root={tmp_path / 'data'}", cwd=tmp_path)
    assert rejected.returncode == 2 and "model.lr = -1" in rejected.stderr and "Traceback" not in rejected.stderr
    assert files_of(tmp_path) == {}  # no run folder, no .hydra, no log


@pytest.mark.slow
def test_a_dry_run_needs_no_weight_file_and_writes_nothing_while_a_real_run_says_it_is_missing(tmp_path):
    env = {"TORCH_HOME": str(tmp_path / "no-torch-home")}  # no Inception weights there
    args = ["dataset=mnist", "search=narrow", "n_trials=2", "storage.url=journal:gan.journal", "runs_root=runs"]
    dry = cli("gan_study.launch.sweep", *args, "--dry-run", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert dry.stdout.startswith("study mnist-narrow-ns_gan:") and "2 trial(s)" in dry.stdout
    assert files_of(tmp_path) == {}  # no storage, no runs/, no Hydra folder, no log, no weight file fetched

    real = cli("gan_study.launch.sweep", *args, cwd=tmp_path, env=env)
    assert real.returncode == 2 and "Traceback" not in real.stderr
    assert "pt_inception-2015-12-05-6726825d.pth not found" in real.stderr and "gan-prefetch weights=inception" in real.stderr
    assert not (tmp_path / "gan.journal").exists() and not (tmp_path / "runs" / "mnist-narrow-ns_gan").exists()
