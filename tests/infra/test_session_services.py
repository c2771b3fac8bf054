"""`make test` leaves the machine as it found it: a service the tests started is stopped when pytest ends,
one that was already running is left running. Each case runs pytest in a subprocess on a private PostgreSQL
(own data folder and port), so the servers of the session running this test are never touched."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import INFRA, unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
INNER_TEST = '''
import sqlalchemy

def test_needs_postgres(postgres_url):
    with sqlalchemy.create_engine(postgres_url).connect() as connection:
        assert connection.execute(sqlalchemy.text("select 41 + 1")).scalar() == 42
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_postgres() -> Iterator[dict[str, str]]:
    """The environment of a PostgreSQL of our own: a data folder under /tmp (the server's user must reach it)
    and a free port. Removed afterwards, whatever happened."""
    if os.geteuid() != 0 and not shutil.which("pg_ctl"):
        unavailable("PostgreSQL is not installed and we are not root")
    folder = tempfile.mkdtemp(prefix="gan-pg-", dir="/tmp")
    os.chmod(folder, 0o755)
    env = {key: value for key, value in os.environ.items() if key != "GAN_STUDY_POSTGRES_URL"}
    env.update(PG_DIR=folder, PG_PORT=str(free_port()))
    try:
        yield env
    finally:
        subprocess.run(["bash", str(INFRA / "start_postgres.sh"), "clean"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def postgres(action: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(INFRA / "start_postgres.sh"), action], env=env, capture_output=True,
                          text=True, timeout=300)


def port_open(port: str) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", int(port))) == 0


def run_inner_pytest(env: dict[str, str], tmp_path: Path) -> None:
    """pytest in a subprocess with the suite's fixtures (tests/conftest.py as a plugin) on one test that needs
    PostgreSQL; it must pass, so the server was really there while it ran."""
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
                           str(tmp_path / "test_inner.py")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]


def test_a_server_the_tests_started_is_stopped_when_pytest_ends(private_postgres, tmp_path):
    assert postgres("status", private_postgres).returncode == 3  # nothing runs before
    run_inner_pytest(private_postgres, tmp_path)
    assert postgres("status", private_postgres).returncode == 3
    assert not port_open(private_postgres["PG_PORT"])


def test_a_server_that_was_already_running_is_left_running(private_postgres, tmp_path):
    assert postgres("start", private_postgres).returncode == 0  # started by "the user" (or .ci/run)
    run_inner_pytest(private_postgres, tmp_path)
    assert postgres("status", private_postgres).returncode == 0
    assert port_open(private_postgres["PG_PORT"])
