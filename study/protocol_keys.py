"""Which keys of a run's config are its protocol (what it computes) and which are runtime (how it runs).

One list, read by the run-folder check (a folder is resumed or reported only under its own protocol;
runtime settings may change between the run that wrote a checkpoint and the one that resumes it) and
by a study's identity (the protocol every trial of the study shares). Runtime settings change at most the
last bits of floating-point results, as any change of hardware does; everything else is protocol.
"""
from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Mapping

RUNTIME_KEYS = ("device", "data_root", "cache_dir", "train.threads", "train.fused_adam", "train.log_every_steps",
                "train.keep_checkpoint", "train.tensorboard")
"""Keys of `TrainRunConfig.to_dict()` that may differ between machines, and between a run and its resume.
(Launcher settings are runtime too; they are not part of a run's config at all.)"""


def protocol_of(run_config: Mapping[str, Any]) -> dict[str, Any]:
    """A validated training config (`TrainRunConfig.to_dict()`) without its runtime settings."""
    protocol = copy.deepcopy(dict(run_config))
    for key in RUNTIME_KEYS:
        *parents, last = key.split(".")
        node = protocol
        for part in parents:
            node = node.get(part, {})
        node.pop(last, None)
    return protocol


def runtime_of(run_config: Mapping[str, Any]) -> dict[str, Any]:
    """The runtime settings of a training config, by dotted key (absent ones as None)."""
    values = {}
    for key in RUNTIME_KEYS:
        node: Any = run_config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        values[key] = node
    return values


def changed_leaves(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) for every leaf where two JSON-like trees differ, sorted by key."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return [change for key in sorted(set(old) | set(new), key=str)
                for change in changed_leaves(old.get(key), new.get(key), f"{prefix}{key}.")]
    return [] if _plain(old) == _plain(new) else [(prefix.rstrip("."), old, new)]


def protocol_hash(run_config: Mapping[str, Any], length: int = 8) -> str:
    """A short fingerprint of the protocol: distinct protocol configs get distinct default run folders."""
    text = json.dumps(_plain(protocol_of(run_config)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _plain(value: Any) -> Any:
    """JSON's view of a value (tuples are lists), so a config read back from YAML compares equal."""
    return json.loads(json.dumps(value, default=str))
