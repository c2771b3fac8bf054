"""tests/infra/start_single_node_slurm.sh: idempotent when the cluster is up, a clear error when it cannot start."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unavailable

pytestmark = pytest.mark.slurm

SCRIPT = Path(__file__).resolve().parents[1] / "infra" / "start_single_node_slurm.sh"
STATE = Path(os.environ.get("SLURM_CI_DIR", "/tmp/slurm-ci"))


def script(*args: str, user: str | None = None) -> subprocess.CompletedProcess:
    """The script with `args`; as `user`, read from stdin in `/`, since that user may not be able to enter the
    checkout (a clone under `mktemp -d` is private to root)."""
    if user is None:
        return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    return subprocess.run(["runuser", "-u", user, "--", "bash", "-s", "--", *args], input=SCRIPT.read_text(),
                          capture_output=True, text=True, timeout=120, cwd="/")


def daemon_pids() -> dict[str, str]:
    return {name: (STATE / f"{name}.pid").read_text().strip() for name in ("slurmctld", "slurmd", "slurmdbd")}


def test_a_second_start_leaves_the_running_cluster_alone(slurm_cluster):
    before = daemon_pids()
    again = script("start")
    assert again.returncode == 0, again.stderr
    assert daemon_pids() == before  # no daemon restarted
    assert "SLURM up" in again.stderr and "gres gpu:2 (fake)" in again.stderr
    status = script("status")
    assert status.returncode == 0 and "slurmctld running" in status.stderr and "gpu:2" in status.stderr


def test_it_refuses_to_run_without_root_and_says_why(slurm_cluster):
    if shutil.which("runuser") is None:
        unavailable("runuser is not installed")
    refused = script("start", user="nobody")
    assert refused.returncode == 1
    assert "[slurm-ci] ERROR: run as root (needs apt-get, /etc/slurm, munge)" in refused.stderr


def test_an_unknown_action_prints_the_usage(slurm_cluster):
    wrong = script("restart")
    assert wrong.returncode == 1 and "usage:" in wrong.stderr and "[start|stop|status|clean]" in wrong.stderr
