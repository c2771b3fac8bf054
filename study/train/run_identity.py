"""Which run a folder holds: a folder is resumed or reported only under the protocol it was made with.

A run folder's `config.yaml` records the config its run started with. Handing that folder's result to a
config with another protocol would be a stale result, so it is refused before any compute, naming every
key that differs. Runtime settings (gan_study.study.protocol_keys) may change between the run that wrote
a checkpoint and the one that resumes it; the record notes them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gan_study.study.config import ConfigError
from gan_study.study.protocol_keys import changed_leaves, protocol_hash, protocol_of, runtime_of
from gan_study.study.train.run_folder import RunFolder

RUNS_ROOT = Path("runs")


class RunFolderMismatch(ConfigError):
    """The run folder holds a run made under another protocol configuration."""


def default_run_dir(config: dict[str, Any]) -> Path:
    """runs/<model>_<dataset>_seed<seed>_<protocol hash>: distinct protocol configs never share a folder."""
    return RUNS_ROOT / (f"{config['model']['name']}_{config['dataset']['name']}_seed{config['seed']}_"
                        f"{protocol_hash(config)}")


def check_protocol(folder: RunFolder, config: dict[str, Any]) -> dict[str, list[Any]]:
    """The runtime settings that differ from the folder's run ({key: [old, new]}); raises `RunFolderMismatch`
    when its protocol differs. A folder without a run (no config.yaml) takes any config."""
    if not folder.config.exists():
        return {}
    stored = yaml.safe_load(folder.config.read_text()) or {}
    changed = changed_leaves(protocol_of(stored), protocol_of(config))
    if changed:
        lines = "\n  ".join(f"{key}: {old!r} -> {new!r}" for key, old, new in changed)
        raise RunFolderMismatch(
            f"run_dir = '{folder.root}' holds a run made under another protocol configuration "
            f"({folder.config}); {len(changed)} key(s) differ (old -> new):\n  {lines}\n"
            "Either resume or report that run with the settings it was made with, or give this config a folder "
            "of its own: run_dir=<another folder> (leave run_dir unset for the default, distinct per protocol "
            "config). Delete the folder only to discard its run.")
    return {key: [old, new] for key, old, new in changed_leaves(runtime_of(stored), runtime_of(config))}
