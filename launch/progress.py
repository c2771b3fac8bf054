"""The sweep's progress line: trials done / running / failed / waiting, the rate and the ETA."""
from __future__ import annotations

import logging
import time
from collections import Counter

log = logging.getLogger("gan_study.sweep")

FINISHED = ("completed", "diverged", "failed")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """Logs a line at most every `every_s` seconds (and whenever a trial finishes, if `every_s` is 0)."""

    def __init__(self, total: int, every_s: float):
        self.total, self.every_s = total, every_s
        self.started = time.monotonic()
        self.done_at_start: int | None = None
        self.last_line = -float("inf")
        self.last_done = -1

    def line(self, counts: Counter) -> str:
        done = sum(counts[s] for s in FINISHED)
        if self.done_at_start is None:
            self.done_at_start = done
        elapsed = time.monotonic() - self.started
        rate = (done - self.done_at_start) / elapsed if elapsed > 0 else 0.0
        remaining = max(self.total - done, 0)
        eta = _duration(remaining / rate) if rate > 0 else "?"
        per_hour = rate * 3600
        return (f"{done}/{self.total} done ({counts['completed']} completed, {counts['diverged']} diverged, "
                f"{counts['failed']} failed), {counts['running']} running, {counts['waiting']} waiting | "
                f"{per_hour:.3g} trials/h | ETA {eta} | elapsed {_duration(elapsed)}")

    def update(self, counts: Counter, force: bool = False) -> None:
        done = sum(counts[s] for s in FINISHED)
        now = time.monotonic()
        due = now - self.last_line >= self.every_s and (done != self.last_done or now - self.last_line >= 60)
        if force or due:
            log.info("%s", self.line(counts))
            self.last_line, self.last_done = now, done
