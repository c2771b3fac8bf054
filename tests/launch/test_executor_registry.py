"""The executor registry: `launcher.name` picks a "module:Class" path, imported only when chosen."""
from __future__ import annotations

import subprocess
import sys

import pytest

from gan_study.launch.base import Executor
from gan_study.launch.registry import available_executors, executor_class
from gan_study.study.config import ConfigError


def test_a_local_run_never_imports_submitit():
    code = ("import sys; from gan_study.launch.registry import executor_class; "
            "print(executor_class('local').__name__, 'submitit' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["LocalExecutor", "False"]


def test_the_built_ins_are_executors_named_as_registered():
    assert available_executors() == ["debug", "local", "slurm"]
    for name in available_executors():
        assert issubclass(executor_class(name), Executor) and executor_class(name).name == name


def test_an_unknown_launcher_is_a_config_error_naming_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"^launcher\.name = 'kubernetes' is not allowed: one of "
                                          r"\['debug', 'local', 'slurm'\]$"):
        executor_class("kubernetes")
