"""Ctrl-C / SIGTERM during a sweep: the first lets running trials checkpoint and wait again, the second aborts."""
from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Protocol

from gan_study.launch.base import Executor

log = logging.getLogger("gan_study.sweep")


class SweepAborted(KeyboardInterrupt):
    """A second Ctrl-C / SIGTERM while the running trials were checkpointing."""


class StoppableSweep(Protocol):
    """What the handler needs of the driver (`driver.Sweep`, which imports this module): where the signal is
    noted, and the executor asked to let its trials checkpoint."""

    stop_signal: int | None
    executor: Executor


class stop_on_signals:
    """First Ctrl-C / SIGTERM: running trials checkpoint and wait again, then the driver ends; the second aborts."""

    def __init__(self, sweep: StoppableSweep):
        self.sweep = sweep
        self.previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame) -> None:
        if self.sweep.stop_signal is not None:
            raise SweepAborted(f"aborted by a second {signal.Signals(signum).name}: trials that were still "
                               "checkpointing are resumed by the next run from their last checkpoint")
        log.warning("%s: stopping; running trials checkpoint and are resumed by the next run (again to abort)",
                    signal.Signals(signum).name)
        self.sweep.stop_signal = signum
        self.sweep.executor.request_stop()  # the loop then stops submitting and waits for them (`stop`)

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may install handlers; a driver in a thread stops with its process
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self._handle)

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
