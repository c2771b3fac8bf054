"""A database password in `storage.url` is written nowhere: a real sweep (local, and SLURM) on the real
PostgreSQL, with a role whose password is required (TCP logins use scram), then every byte of every file under
its run, log and Hydra folders and all its output are searched for the password."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState

from gan_study.study.search.credentials import for_workers, masked, scrub_files, without_password
from gan_study.study.search.storage import open_storage
from tests.conftest import INFRA, unavailable

ROOT = Path(__file__).resolve().parents[2]
STUDY = "triangles-wide-ns_gan"


@pytest.fixture
def secret_database(postgres_url) -> Iterator[tuple[str, str]]:
    """(URL with the password, the password): a new role and its own database on the running server."""
    port = re.search(r":(\d+)/", postgres_url).group(1)
    name, password = f"gan_secret_{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    env = {**os.environ, "PG_USER": name, "PG_DB": name, "PG_PASSWORD": password, "PG_PORT": port}
    made = subprocess.run(["bash", str(INFRA / "start_postgres.sh")], env=env, capture_output=True, text=True,
                          timeout=300)
    if made.returncode != 0:
        unavailable(f"cannot add a role to the server of {masked(postgres_url)}: {made.stderr[-500:]}")
    try:
        yield f"postgresql+psycopg2://{name}:{password}@127.0.0.1:{port}/{name}", password
    finally:
        subprocess.run(["bash", str(INFRA / "start_postgres.sh"), "drop", name], env=env, capture_output=True,
                       timeout=120)


def sweep_command(url: str, tmp_path: Path, data_root: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "gan_study.launch.sweep", "model=ns_gan", "dataset=triangles", "train=tiny",
            "train.steps=2", "train.eval_every_steps=2", "eval=none",
            "+eval.metrics.triangles_pr={n:8,recall:false,bank_grid:4,steps:5,batch_size:8}",
            "objective.metric=precision_median_distance", "n_trials=2", f"storage.url={url}",
            f"runs_root={tmp_path / 'runs'}", f"data_root={data_root}", f"cache_dir={tmp_path / 'cache'}",
            f"hydra.run.dir={tmp_path / 'hydra'}", "poll_s=0.5", "heartbeat.interval_s=2", "heartbeat.grace_s=120",
            *overrides]


def run(command: list[str]) -> str:
    """Run without PGPASSWORD in the environment: the only copy of the password is the one in the URL."""
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "GAN_STUDY_POSTGRES_URL")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout + done.stderr


def files_holding(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def check_nothing_holds_the_password(url: str, password: str, tmp_path: Path, output: str) -> None:
    trials = optuna.load_study(study_name=STUDY, storage=open_storage(url)).get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2  # the workers reached the database
    assert password not in output
    assert files_holding(tmp_path, password) == []
    # not vacuous: the files that used to hold it are there, with the password masked
    (overrides,) = [p.read_text() for p in (tmp_path / "runs" / "_gan-sweep").glob("*/.hydra/overrides.yaml")]
    assert f"storage.url={masked(url)}" in overrides and "***@" in masked(url)
    assert list((tmp_path / "runs" / STUDY).rglob("*.pkl")), "the trials' pickled tasks should exist"
    with pytest.raises(sqlalchemy.exc.OperationalError, match="password"):  # and it is really needed
        sqlalchemy.create_engine(without_password(url)).connect()


@pytest.mark.slow
def test_a_local_sweep_writes_the_password_nowhere(secret_database, tmp_path, data_root, monkeypatch):
    url, password = secret_database
    monkeypatch.delenv("PGPASSWORD", raising=False)
    output = run(sweep_command(url, tmp_path, data_root, "launcher=local"))
    assert f"optuna-dashboard {without_password(url)}" in output
    output += run([sys.executable, "-m", "gan_study.launch.sweep", "status", f"study={STUDY}", f"storage.url={url}"])
    check_nothing_holds_the_password(url, password, tmp_path, output)


@pytest.mark.slurm
@pytest.mark.slow
def test_a_slurm_sweep_writes_the_password_nowhere(secret_database, slurm_cluster, tmp_path, data_root, monkeypatch):
    url, password = secret_database
    monkeypatch.delenv("PGPASSWORD", raising=False)
    output = run(sweep_command(url, tmp_path, data_root, "launcher=slurm", f"launcher.partition={slurm_cluster}",
                               "launcher.cpus_per_task=1", "launcher.mem_gb=2", "launcher.timeout_min=10",
                               "launcher.signal_delay_s=60", "launcher.trials_per_gpu=2", "follow=true"))
    assert list((tmp_path / "runs" / STUDY / "logs").rglob("*_submitted.pkl")), "submitit's pickled task"
    check_nothing_holds_the_password(url, password, tmp_path, output)


def test_masked_and_password_free_forms_of_a_url(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "older")  # recorded, so the test leaves the environment as it found it
    url = "postgresql+psycopg2://me:p%40ss:w@db.example:5432/gan?sslmode=require"
    assert masked(url) == "postgresql+psycopg2://me:***@db.example:5432/gan?sslmode=require"
    assert without_password(url) == "postgresql+psycopg2://me@db.example:5432/gan?sslmode=require"
    assert for_workers(url) == without_password(url) and os.environ["PGPASSWORD"] == "p@ss:w"  # decoded
    for unchanged in ("journal:/shared/studies.journal", "sqlite:///studies/gan.db",
                      "postgresql+psycopg2://me@db/gan?passfile=/shared/me/.pgpass", "postgresql://db/gan"):
        assert masked(unchanged) == without_password(unchanged) == for_workers(unchanged) == unchanged
    assert for_workers("mysql://me:secret@db/gan") == "mysql://me:secret@db/gan"  # only libpq reads PGPASSWORD


def test_scrub_files_masks_the_credentials_and_nothing_else(tmp_path):
    saved = tmp_path / "overrides.yaml"
    saved.write_text("- storage.url=postgresql://gan:gan@db/gan\n- model=gan_gan\n")
    assert scrub_files([saved], "postgresql://gan:gan@db/gan") == [saved]
    assert saved.read_text() == "- storage.url=postgresql://gan:***@db/gan\n- model=gan_gan\n"
