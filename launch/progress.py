"""The sweep's progress line: trials done / running / failed / waiting, the rate and the ETA."""
from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Iterable

from optuna.trial import FrozenTrial, TrialState

log = logging.getLogger("gan_study.sweep")

_COUNTED_AS = {TrialState.COMPLETE: "done", TrialState.RUNNING: "running", TrialState.WAITING: "waiting"}
_PRECEDENCE = ("done", "running", "waiting", "failed")
"""An entry tried several times (retry_failed, requeues) counts by its most advanced attempt."""


def count_entries(trials: Iterable[FrozenTrial], total: int) -> Counter:
    """The list entries of one study by state, as its storage holds them: done, running, waiting, failed.

    Entries not created yet (an adaptive sampler proposes them as it goes) count as waiting."""
    best: dict[object, str] = {}
    for trial in trials:
        index = trial.user_attrs.get("list_index", ("trial", trial.number))
        if isinstance(index, int) and index >= total:
            continue
        state = _COUNTED_AS.get(trial.state, "failed")
        if index not in best or _PRECEDENCE.index(state) < _PRECEDENCE.index(best[index]):
            best[index] = state
    counts = Counter(best.values())
    counts["waiting"] += max(total - len(best), 0)
    return counts


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """Logs a line at most every `every_s` seconds, when something changed (or a minute passed)."""

    def __init__(self, total: int, every_s: float):
        self.total, self.every_s = total, every_s
        self.started = time.monotonic()
        self.done_at_start: int | None = None
        self.last_line = -float("inf")
        self.last_seen: tuple | None = None

    def line(self, live: Counter) -> str:
        """`live` counts list entries: done, failed, running, waiting."""
        finished = live["done"] + live["failed"]
        if self.done_at_start is None:
            self.done_at_start = finished
        elapsed = time.monotonic() - self.started
        rate = (finished - self.done_at_start) / elapsed if elapsed > 0 else 0.0
        remaining = max(self.total - finished, 0)
        eta = _duration(remaining / rate) if rate > 0 else "?"
        return (f"{finished}/{self.total} done ({live['failed']} failed), {live['running']} running, "
                f"{live['waiting']} waiting | {rate * 3600:.3g} trials/h | ETA {eta} | elapsed {_duration(elapsed)}")

    def due(self) -> bool:
        """Whether a line may be logged now (the caller counts the entries only then: a full read of the studies)."""
        return time.monotonic() - self.last_line >= self.every_s

    def update(self, live: Counter, force: bool = False) -> None:
        now = time.monotonic()
        seen = tuple(live[k] for k in ("done", "failed", "running", "waiting"))
        due = self.due() and (seen != self.last_seen or now - self.last_line >= 60)
        if (force and seen != self.last_seen) or due:
            log.info("%s", self.line(live))
            self.last_line, self.last_seen = now, seen
