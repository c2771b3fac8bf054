"""Shared pieces of the study tests: the storage fixture, composed sweep configs, reading studies back."""
from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import optuna
import pytest
from hydra import compose, initialize_config_dir

from stand_in_trainers import EVAL_OVERRIDES
from gan_study.study.search.storage import absolute_url, open_storage

CONF = Path(__file__).resolve().parents[2] / "conf"
STORAGES = ["journal", "sqlite", "postgres"]


@pytest.fixture(params=STORAGES)
def storage_url(request, tmp_path) -> Iterator[str]:
    """Each storage for real. The files live in RAM where it exists: the code is the same, and the suite is
    not bound by this machine's ~15 ms per fsync (every journal append and SQLite commit syncs)."""
    if request.param == "postgres":
        yield request.getfixturevalue("postgres_url")
        return
    folder = Path(tempfile.mkdtemp(dir="/dev/shm")) if Path("/dev/shm").is_dir() else tmp_path
    try:
        yield f"journal:{folder / 'gan.journal'}" if request.param == "journal" else f"sqlite:///{folder / 'gan.db'}"
    finally:
        if folder != tmp_path:
            shutil.rmtree(folder, ignore_errors=True)


def compose_sweep(overrides: list[str]):
    """The gan-sweep config as the app composes it (`tests/conftest.compose` is shadowed by sub-folder conftests)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="sweep", overrides=overrides)


def sweep_config(storage_url: str, runs_root: Path, *overrides: str, name: str | None = None):
    """A composed gan-sweep config for tests: a study name unique to the test (PostgreSQL is shared)."""
    name = name or f"test-{uuid.uuid4().hex[:8]}-${{model.name}}"
    return compose_sweep([f"storage.url={storage_url}", f"runs_root={runs_root}", f"study_name={name}", "model=wgan_gp",
                    "n_trials=5", "poll_s=0.05", "progress_every_s=0", "heartbeat.interval_s=0.2",
                    "heartbeat.grace_s=5", *EVAL_OVERRIDES, *overrides])


def study_of(cfg) -> optuna.Study:
    """The (single) study a composed sweep config names, loaded from its storage."""
    return optuna.load_study(study_name=cfg.study_name, storage=open_storage(absolute_url(cfg.storage.url)))
