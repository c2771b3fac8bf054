"""Storages named as Optuna users name them: the `optuna` CLI and `optuna.load_study` open what gan-sweep wrote."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from gan_study.analysis.load import load
from gan_study.launch.debug import DebugExecutor
from gan_study.launch.sweep import run_sweep
from gan_study.study.search.storage import absolute_url, storage_kind
from stand_in_trainers import closed_form_fid, scored_trainer
from sweep_testkit import sweep_config

OPTUNA = str(Path(sys.executable).parent / "optuna")


def swept(url: str, runs_root: Path) -> tuple[str, dict[int, float]]:
    """A finished 3-trial study in `url`: its name and each trial's objective (the stand-in's closed form)."""
    cfg = sweep_config(url, runs_root, "n_trials=3")  # a study name unique to the test (PostgreSQL is shared)
    run_sweep(cfg, executor=DebugExecutor(scored_trainer))
    expected = {}
    for number in range(3):
        config = json.loads((runs_root / cfg.study_name / str(number) / "config.json").read_text())
        expected[number] = closed_form_fid(config)
    return cfg.study_name, expected


def optuna_cli(*args: str) -> str:
    proc = subprocess.run([OPTUNA, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("form", ["path", "journal:path", "sqlite"])
def test_optuna_cli_and_load_study_open_what_gan_sweep_wrote(form, tmp_path):
    path = tmp_path / ("studies.db" if form == "sqlite" else "studies.journal")
    url = {"path": str(path), "journal:path": f"journal:{path}", "sqlite": f"sqlite:///{path}"}[form]
    name, expected = swept(url, tmp_path / "runs")
    assert path.is_file()
    optuna_storage = f"sqlite:///{path}" if form == "sqlite" else str(path)  # what Optuna's own tools take

    listed = json.loads(optuna_cli("studies", "--storage", optuna_storage, "-f", "json"))
    assert [study["name"] for study in listed] == [name]
    trials = json.loads(optuna_cli("trials", "--storage", optuna_storage, "--study-name", name, "-f", "json"))
    assert {t["number"]: t["value"] for t in trials} == pytest.approx(expected)

    storage = f"sqlite:///{path}" if form == "sqlite" else JournalStorage(JournalFileBackend(str(path)))
    study = optuna.load_study(study_name=name, storage=storage)
    assert {t.number: t.value for t in study.trials} == pytest.approx(expected)
    assert study.best_value == pytest.approx(min(expected.values()))  # the study's direction: minimise FID

    tables = load(storage=url, study=[name])  # gan-study's own API for results: the same values, as DataFrames
    assert dict(zip(tables.trials["trial"], tables.trials["objective"])) == pytest.approx(expected)
    assert sorted(set(tables.evaluations["trial"])) == [0, 1, 2]


def test_url_forms_are_told_apart_and_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert storage_kind("studies/x.journal") == storage_kind("journal:studies/x.journal") == "journal"
    assert storage_kind("postgresql://u@h:5432/db") == storage_kind("postgresql+psycopg2://u@h/db") == "postgresql"
    assert absolute_url("studies/x.journal") == str(tmp_path / "studies" / "x.journal")
    assert absolute_url("journal:studies/x.journal") == f"journal:{tmp_path / 'studies' / 'x.journal'}"
    assert absolute_url("sqlite:///studies/x.db") == f"sqlite:///{tmp_path / 'studies' / 'x.db'}"
    with pytest.raises(ValueError, match="storage.url = 'journal:' is not allowed"):
        storage_kind("journal:")


def test_a_plain_postgresql_url_is_a_postgres_storage(postgres_url, tmp_path):
    plain = postgres_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    name, expected = swept(plain, tmp_path / "runs")
    study = optuna.load_study(study_name=name, storage=plain)
    assert {t.number: t.value for t in study.trials} == pytest.approx(expected)
