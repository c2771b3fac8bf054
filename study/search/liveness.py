"""Whether a trial's worker still lives: its process, checked through /proc on the same machine, and its heartbeat.

A worker records who it is (`Worker`) when it claims a trial; any process on the same machine and boot can then
tell a dead worker from a live one (a recycled pid is told apart by its start time), and from elsewhere the
heartbeat's age decides.
"""
from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial, TrialState


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _process_start(pid: int) -> str | None:
    """The start time of a process in clock ticks since boot (tells a live pid from a recycled one)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


@dataclass(frozen=True)
class Worker:
    """Who holds a trial: enough for any process on the same machine to tell whether it still lives."""

    token: str
    host: str
    boot: str
    pid: int
    started: str | None
    claimed_at: float

    @classmethod
    def current(cls) -> Worker:
        return cls(uuid.uuid4().hex, socket.gethostname(), _boot_id(), os.getpid(), _process_start(os.getpid()),
                   time.time())

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def is_gone(self) -> bool:
        """True only when certain: same machine and boot, and the process no longer exists."""
        if self.host != socket.gethostname() or self.boot != _boot_id():
            return False
        return _process_start(self.pid) != self.started


def worker_of(trial: FrozenTrial) -> Worker | None:
    data = trial.user_attrs.get("worker")
    return Worker(**data) if isinstance(data, dict) else None


def dead_reason(trial: FrozenTrial, grace_s: float, now: float | None = None) -> str | None:
    """Why a RUNNING trial's worker is presumed dead, or None while it may be alive."""
    if trial.state != TrialState.RUNNING:
        return None
    worker = worker_of(trial)
    if worker is not None and worker.is_gone():
        return f"worker process {worker.pid} on {worker.host} is gone"
    now = time.time() if now is None else now
    beats = [trial.user_attrs.get("heartbeat") or 0.0, worker.claimed_at if worker else 0.0]
    if trial.datetime_start is not None:
        beats.append(trial.datetime_start.timestamp())
    silent = now - max(beats)
    if silent > grace_s:
        return f"no heartbeat for {silent:.0f} s (grace {grace_s:.0f} s)"
    return None
