"""The driver's own settings (`kind`, `dry_run`, heartbeat, polling, requeues), checked once from the sweep config."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from gan_study.models.checks import at_least, check, flag, integer, refuse

KINDS = ("search", "seeds")


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
        check(kind in KINDS, "kind", kind, f"one of {list(KINDS)} (experiment=seeds sets seeds)")
        heartbeat = cfg.get("heartbeat") or {}
        settings = cls(kind=kind, dry_run=flag("dry_run", cfg.get("dry_run")),
                       heartbeat_s=at_least("heartbeat.interval_s", heartbeat.get("interval_s"), 0.01),
                       grace_s=at_least("heartbeat.grace_s", heartbeat.get("grace_s"), 0.01),
                       max_requeues=integer("max_requeues", cfg.get("max_requeues"), 0),
                       retry_failed=flag("retry_failed", cfg.get("retry_failed")),
                       wait_for_others=flag("wait_for_others", cfg.get("wait_for_others")),
                       follow=flag("follow", cfg.get("follow")),
                       poll_s=at_least("poll_s", cfg.get("poll_s"), 0.01),
                       progress_every_s=at_least("progress_every_s", cfg.get("progress_every_s"), 0))
        if settings.grace_s <= 2 * settings.heartbeat_s:
            refuse("heartbeat.grace_s", settings.grace_s, f"more than twice heartbeat.interval_s = "
                   f"{settings.heartbeat_s}, or live workers look dead")
        return settings
