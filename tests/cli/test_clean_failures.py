"""Every console script fails cleanly on a user error: one message naming what is wrong, exit 2, no traceback,
and nothing written (a command that only reads a storage never creates one). Through the real CLIs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import torch

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def run(command: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / command), *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, **(env or {})})


def refused(proc: subprocess.CompletedProcess, command: str, *phrases: str) -> str:
    """The process exited 2 with `<command>: ...` naming every phrase, and no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr[-3000:]
    message = next(line for line in proc.stderr.splitlines() if line.startswith(f"{command}:"))
    for phrase in phrases:
        assert phrase in proc.stderr, (phrase, proc.stderr)
    return message


def test_gan_report_names_a_mistyped_study_and_the_studies_there(tmp_path):
    journal = tmp_path / "studies.journal"
    optuna.create_study(study_name="mnist-wide-ns_gan", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))))
    before = journal.read_bytes()
    proc = run("gan-report", f"storage.url=journal:{journal}", "study=mnist-wide-nsgan", cwd=tmp_path)
    refused(proc, "gan-report", "study = 'mnist-wide-nsgan' is not in", "it holds: mnist-wide-ns_gan")
    assert journal.read_bytes() == before


@pytest.mark.parametrize("url", ["journal:missing/studies.journal", "sqlite:///missing/studies.db"])
def test_gan_report_never_creates_the_storage_it_reads(url, tmp_path):
    proc = run("gan-report", f"storage.url={url}", "study=mnist-wide-ns_gan", cwd=tmp_path)
    refused(proc, "gan-report", f"storage.url = {url!r}", "does not exist")
    assert not (tmp_path / "missing").exists()


def test_the_export_command_never_creates_the_storage_it_reads(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gan_study.study.search.results", "journal:missing/s.journal", "s"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "missing/s.journal does not exist" in proc.stderr and not (tmp_path / "missing").exists()


def test_gan_report_refuses_a_storage_url_it_cannot_open(tmp_path):
    proc = run("gan-report", "storage.url=nosuchdb://host/db", "study=s", cwd=tmp_path)
    refused(proc, "gan-report", "storage.url = 'nosuchdb://host/db' is not allowed")
    proc = run("gan-report", "storage.url=postgresql://user:secret@127.0.0.1:1/db", "study=s", cwd=tmp_path)
    refused(proc, "gan-report", "storage.url = 'postgresql://user@127.0.0.1:1/db': cannot open the database")
    assert "secret" not in proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: device=cuda is valid here")
def test_gan_train_on_cuda_without_a_gpu_is_a_config_error(tmp_path):
    proc = run("gan-train", "device=cuda", "dataset=triangles", "train=tiny", "eval=none",
               f"run_dir={tmp_path / 'run'}", cwd=tmp_path)
    refused(proc, "gan-train", "device = 'cuda' is not allowed: this machine has 0 CUDA device(s)")
    assert not (tmp_path / "run").exists()


def test_gan_train_with_missing_data_says_where_and_how_to_get_them(tmp_path):
    proc = run("gan-train", "dataset=mnist", "train=tiny", "eval=none", f"run_dir={tmp_path / 'run'}", cwd=tmp_path,
               env={"GAN_STUDY_DATA": str(tmp_path / "no-data")})
    refused(proc, "gan-train", f"data set 'mnist' not found", str(tmp_path / "no-data" / "MNIST" / "raw"),
            "gan-prefetch")


def test_gan_fid_experiments_reads_the_data_root_from_the_environment_as_gan_train(tmp_path):
    proc = run("gan-fid-experiments", "bias-variance", "--dataset", "mnist", "--out", "out.csv", cwd=tmp_path,
               env={"GAN_STUDY_DATA": str(tmp_path / "no-data")})
    refused(proc, "gan-fid-experiments", "data set 'mnist' not found", str(tmp_path / "no-data" / "MNIST" / "raw"))
    proc = run("gan-fid-experiments", "encoder-sensitivity", "--dataset", "triangles", "--runs", "nope", "--out",
               "out.csv", cwd=tmp_path, env={"GAN_STUDY_DATA": str(tmp_path / "no-data")})
    refused(proc, "gan-fid-experiments", "--runs: nope: no such run folder")
    assert not (tmp_path / "out.csv").exists()


def test_gan_fid_experiments_defaults_follow_the_environment(monkeypatch):
    from gan_study.study.cli.fid_experiments import _parser

    monkeypatch.setenv("GAN_STUDY_DATA", "/data/here")
    monkeypatch.setenv("GAN_STUDY_CACHE", "/cache/here")
    args = _parser().parse_args(["bias-variance", "--dataset", "mnist", "--out", "x.csv"])
    assert (args.data_root, args.cache_dir) == ("/data/here", "/cache/here")


def test_gan_prefetch_that_cannot_write_says_so(tmp_path):
    proc = run("gan-prefetch", "weights=inception", "weights_dir=/proc/gan-study-nope", cwd=tmp_path)
    refused(proc, "gan-prefetch", "could not fetch 'inception'")
