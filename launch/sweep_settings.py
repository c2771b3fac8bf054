"""The driver's own settings (`kind`, `dry_run`, heartbeat, polling, requeues), checked once from the sweep config."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from gan_study.study.config import ConfigError

KINDS = ("search", "seeds")


def _positive(cfg: Mapping[str, Any], key: str, kind: type = float, minimum: float = 0.0, prefix: str = "") -> Any:
    value = cfg.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not minimum <= value < math.inf or \
            (kind is int and not isinstance(value, int)):
        what = "an integer" if kind is int else "a finite number"
        raise ConfigError(f"{prefix}{key} = {value!r} is not allowed: {what} >= {minimum}")
    return kind(value)


def _flag(cfg: Mapping[str, Any], key: str) -> bool:
    if not isinstance(cfg.get(key), bool):
        raise ConfigError(f"{key} = {cfg.get(key)!r} is not allowed: true or false")
    return cfg[key]


@dataclass(frozen=True)
class SweepSettings:
    """How the driver behaves (none of it changes a result; the study specs hold what does)."""

    kind: str
    dry_run: bool
    heartbeat_s: float
    grace_s: float
    max_requeues: int
    retry_failed: bool
    wait_for_others: bool
    follow: bool
    poll_s: float
    progress_every_s: float

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> SweepSettings:
        kind = cfg.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"kind = {kind!r} is not allowed: one of {list(KINDS)} (experiment=seeds sets seeds)")
        heartbeat = cfg.get("heartbeat") or {}
        settings = cls(kind=kind, dry_run=_flag(cfg, "dry_run"),
                       heartbeat_s=_positive(heartbeat, "interval_s", minimum=0.01, prefix="heartbeat."),
                       grace_s=_positive(heartbeat, "grace_s", minimum=0.01, prefix="heartbeat."),
                       max_requeues=_positive(cfg, "max_requeues", int), retry_failed=_flag(cfg, "retry_failed"),
                       wait_for_others=_flag(cfg, "wait_for_others"), follow=_flag(cfg, "follow"),
                       poll_s=_positive(cfg, "poll_s", minimum=0.01),
                       progress_every_s=_positive(cfg, "progress_every_s"))
        if settings.grace_s <= 2 * settings.heartbeat_s:
            raise ConfigError(f"heartbeat.grace_s = {settings.grace_s} is not allowed: more than twice "
                              f"heartbeat.interval_s = {settings.heartbeat_s}, or live workers look dead")
        return settings
