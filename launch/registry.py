"""The one place an executor is added: `launcher.name` -> "module:Class", imported only when chosen.

`EXECUTORS` is the shared `Registry` (`models/registry.py`) with path entries: importing by path keeps
`submitit` (SLURM) out of a process that runs trials locally.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from gan_study.launch.base import Executor
from gan_study.models.registry import Registry

EXECUTORS: Registry[type[Executor]] = Registry("executor", "launcher.name", base=Executor)


def register_executor(name: str, import_path: str) -> None:
    """Make `launcher=<name>` available; `import_path` is "package.module:ExecutorClass"."""
    EXECUTORS.add(name, import_path)


register_executor("debug", "gan_study.launch.debug:DebugExecutor")
register_executor("local", "gan_study.launch.local:LocalExecutor")
register_executor("slurm", "gan_study.launch.slurm:SlurmExecutor")


def available_executors() -> list[str]:
    return EXECUTORS.available()


def executor_class(name: str) -> type[Executor]:
    """The executor class `launcher.name` names, imported now."""
    return EXECUTORS.get(name)


def build_executor(launcher: Mapping[str, Any], study_dir: Path) -> Executor:
    """The executor the `launcher` config group names, built from that group."""
    return executor_class(launcher.get("name")).from_config(launcher, study_dir)
