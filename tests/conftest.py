"""Shared fixtures: real services (PostgreSQL, single-node SLURM) started on loopback by the tests.

A test that needs a service it cannot start is skipped on a laptop, but with GAN_STUDY_REQUIRE_SERVICES=1
(set by .ci/run) the skip becomes a failure, so CI can never go green without having run it. A service the
tests start is stopped when pytest ends; one already running (.ci/run's, the user's) is left running.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import torch
from filelock import FileLock

INFRA = Path(__file__).parent / "infra"
REQUIRE_SERVICES = os.environ.get("GAN_STUDY_REQUIRE_SERVICES") == "1"
# Where the workers of one pytest run note which services they started (and lock their start).
_SERVICE_NOTES = Path(tempfile.gettempdir()) / "gan-study-test-services"
_SERVICE_NOTES.mkdir(exist_ok=True)


def _run_id() -> str:
    return os.environ.get("GAN_STUDY_TEST_RUN_ID", str(os.getpid()))


# Deterministic, small CPU work everywhere in the suite.
torch.set_num_threads(1)


def unavailable(reason: str) -> None:
    """Skip, or fail when CI requires every service-backed test to run."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable (GAN_STUDY_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(reason)


def _run_script(script: str, *args: str, env: dict | None = None, timeout: int = 300) -> str:
    proc = subprocess.run(["bash", str(INFRA / script), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


@contextmanager
def session_service(script: str, timeout: int = 300) -> Iterator[str]:
    """Start a service with its infra script (its stdout is yielded), once per pytest run however many xdist
    workers ask: the first one starts it under a lock and leaves a note, the others find it running. The run's
    controller stops it when pytest ends (`pytest_unconfigure`), but only if this run started it: what .ci/run or
    the user started is left alone."""
    with FileLock(str(_SERVICE_NOTES / f"{script}.lock")):
        running = subprocess.run(["bash", str(INFRA / script), "status"], capture_output=True,
                                 timeout=60).returncode == 0
        try:
            output = _run_script(script, timeout=timeout)
        except Exception as error:  # noqa: BLE001 - the message is the point
            unavailable(f"could not start the service of {script}: {error}")
        if not running:
            (_SERVICE_NOTES / f"{_run_id()}.{script}.started").touch()
    yield output


def pytest_configure(config: pytest.Config) -> None:
    """The controller names the run, so its xdist workers (which inherit the environment) share its notes."""
    if not hasattr(config, "workerinput"):
        os.environ["GAN_STUDY_TEST_RUN_ID"] = str(os.getpid())  # an inner pytest names its own run


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the services this run started, in the controller only, after every worker has finished."""
    if hasattr(config, "workerinput"):
        return
    for note in _SERVICE_NOTES.glob(f"{_run_id()}.*.started"):
        _run_script(note.name.split(".", 1)[1].removesuffix(".started"), "stop", timeout=600)
        note.unlink()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _mark_postgres(items)
    _long_files_first(items)


def _mark_postgres(items: list[pytest.Item]) -> None:
    """Mark every test that reaches the session's PostgreSQL `postgres`, so `-m "not postgres"` leaves them out:
    those that ask for `postgres_url`, directly or through a fixture, and the "postgres" case of `storage_url`."""
    for item in items:
        params = getattr(item, "callspec", None)
        if "postgres_url" in item.fixturenames or (params and params.params.get("storage_url") == "postgres"):
            item.add_marker(pytest.mark.postgres)


def _long_files_first(items: list[pytest.Item]) -> None:
    """Files with slow or SLURM tests first. pytest-xdist (`--dist loadfile`) deals whole files out in collection
    order, a quarter of them at the start and the rest one at a time as workers free up: a slow file dealt out last
    (tests/search/ and tests/train/ come last alphabetically) runs alone while the other worker idles; dealt out
    first, the many short files fill in around it. Within each group the order stays alphabetical."""
    long_files = {item.path for item in items
                  if item.get_closest_marker("slow") or "slurm_cluster" in getattr(item, "fixturenames", ())}
    items.sort(key=lambda item: item.path not in long_files)  # stable


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a real PostgreSQL on 127.0.0.1 (GAN_STUDY_POSTGRES_URL, or started here by start_postgres.sh)."""
    import optuna  # the schema is created once, before any concurrent worker (infra NOTES pitfall 7)

    url = os.environ.get("GAN_STUDY_POSTGRES_URL")
    if url:
        optuna.storages.RDBStorage(url)
        yield url
        return
    if os.geteuid() != 0 and not shutil.which("pg_ctl"):
        unavailable("PostgreSQL is not installed and we are not root")
    with session_service("start_postgres.sh") as output:
        url = output.strip().splitlines()[-1]
        optuna.storages.RDBStorage(url)
        yield url


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[str]:
    """Name of the partition of a real single-node SLURM with accounting and 2 fake GPUs."""
    if not shutil.which("sbatch") and os.geteuid() != 0:
        unavailable("SLURM is not installed and we are not root")
    with session_service("start_single_node_slurm.sh", timeout=600):
        yield os.environ.get("SLURM_CI_PARTITION", "debug")


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """One data root for the session, so the generated Triangles set is built once, then read from its cache."""
    shared = os.environ.get("GAN_STUDY_TEST_DATA")
    root = Path(shared) if shared else tmp_path_factory.mktemp("data")
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def inception_weights_present(tmp_path, monkeypatch) -> Path:
    """A private torch hub holding the FID Inception weights file, so configs that evaluate FID validate.

    Validation only checks that the file exists (Metric.preflight); tests that use this never compute FID.
    """
    checkpoints = tmp_path / "torch-home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "pt_inception-2015-12-05-6726825d.pth").write_bytes(b"")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    return checkpoints


def compose(overrides: list[str], config_name: str = "config"):
    """A config composed by Hydra's compose API from the project's conf/ tree, as the CLIs see it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    conf_dir = str(Path(__file__).resolve().parents[1] / "conf")
    with initialize_config_dir(config_dir=conf_dir, version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=overrides)
