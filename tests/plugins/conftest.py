"""A user's research repository outside the checkout, holding the hinge plugin, installed as the docs tell.

The repository is a copy of examples/hinge_plugin (pyproject with the entry point, the `hinge_gan` package, its
`conf/` folder) plus the user's own `models/` and `study/` packages, whose names gan-study's folders also have.
It is installed with `pip install -e` into an environment of its own that sees this test environment's packages
(a `.pth` line), with gan-study installed there too: the CLIs are real console scripts, and the shared test
environment never lists a loss that other tests do not expect.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hinge_plugin"
USER_PACKAGE = 'WHOSE = "the user\'s own {name} package"\n'
CHEAP_EVAL = ["eval=none", "+eval.metrics.triangles_pr={n:8,recall:false,bank_grid:4,steps:5,batch_size:8}",
              "objective.metric=precision_median_distance"]
"""An evaluation that needs no Inception weights: the Triangles precision's median distance, on 8 samples."""


@dataclass(frozen=True)
class PluginRepo:
    path: Path
    bin: Path
    data_root: Path

    @property
    def searchpath(self) -> str:
        return f"hydra.searchpath=[file://{self.path / 'conf'}]"

    def run(self, script: str, *args: str, expect: int = 0, timeout: int = 900) -> subprocess.CompletedProcess:
        """A console script of the repository's environment, run from inside the repository."""
        env = {**os.environ, "GAN_STUDY_DATA": str(self.data_root)}
        env.pop("PYTHONPATH", None)
        proc = subprocess.run([str(self.bin / script), *args], cwd=self.path, capture_output=True, text=True,
                              timeout=timeout, env=env)
        assert proc.returncode == expect, f"{script} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}"
        return proc


@pytest.fixture(scope="session")
def plugin_repo(tmp_path_factory, data_root) -> PluginRepo:
    base = tmp_path_factory.mktemp("user")
    assert ROOT not in base.parents
    repo = base / "my-gan-research"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    for name in ("models", "study"):
        (repo / name).mkdir()
        (repo / name / "__init__.py").write_text(USER_PACKAGE.format(name=name))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "-e", str(ROOT), "-e", str(repo)], check=True, capture_output=True, timeout=600)
    return PluginRepo(repo, venv / "bin", data_root)
