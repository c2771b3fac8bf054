"""The one place an executor is added: `launcher.name` -> "module:Class", imported only when chosen.

Importing by path keeps `submitit` (SLURM) out of a process that runs trials locally.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Mapping

from gan_study.launch.base import Executor
from gan_study.study.config import ConfigError

_EXECUTORS: dict[str, str] = {
    "debug": "gan_study.launch.debug:DebugExecutor",
    "local": "gan_study.launch.local:LocalExecutor",
    "slurm": "gan_study.launch.slurm:SlurmExecutor",
}


def register_executor(name: str, import_path: str) -> None:
    """Make `launcher=<name>` available; `import_path` is "package.module:ExecutorClass"."""
    if ":" not in import_path:
        raise ValueError(f"register_executor({name!r}, {import_path!r}): the path must be 'module:Class'")
    if name in _EXECUTORS and _EXECUTORS[name] != import_path:
        raise ValueError(f"executor {name!r} is already registered as {_EXECUTORS[name]}")
    _EXECUTORS[name] = import_path


def available_executors() -> list[str]:
    return sorted(_EXECUTORS)


def executor_class(name: str) -> type[Executor]:
    if name not in _EXECUTORS:
        raise ConfigError(f"launcher.name = {name!r} is not allowed: one of {available_executors()}")
    module_name, class_name = _EXECUTORS[name].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise TypeError(f"{_EXECUTORS[name]} is not a gan_study.launch.base.Executor subclass")
    return cls


def build_executor(launcher: Mapping[str, Any], study_dir: Path) -> Executor:
    """The executor the `launcher` config group names, built from that group."""
    return executor_class(launcher.get("name")).from_config(launcher, study_dir)
