"""One trial in its own process: `python -m gan_study.launch.trial_process <task.pkl>`, how it is started and reaped.

Both process launchers start trials this way: launcher=local (a pool of these children, `launch/local.py`) and
each SLURM array task (K of them side by side, `launch/packing.py`). With `launcher.batch` one child trains a group
of trials together (`launch/batching.py`). The child checkpoints and gives its trial
back on any of STOP_SIGNALS instead of dying mid-step; the parent reaps it with os.waitpid, which (unlike
Popen.wait) is safe inside the signal handlers that forward those signals.
"""
from __future__ import annotations

import ctypes
import json
import logging
import os
import pickle
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from gan_study.study.search.task import TrialTask

STOP_SIGNALS = (signal.SIGUSR2, signal.SIGTERM, signal.SIGINT)
"""Any of these tells a trial process to checkpoint and return `interrupted` (never to die mid-step)."""

FINISHED = ("completed", "diverged", "failed")
"""Run statuses (record.json) that a requeue must not run again."""

DRIVER_PID = "GAN_STUDY_DIE_WITH_PID"
"""Set by launcher=local: the child dies with that process (the sweep driver), so a killed sweep leaves no orphan."""

PR_SET_PDEATHSIG = 1


def run_status(task: TrialTask) -> str | None:
    """The status the trial's run folder reports (record.json), or None when the run never wrote one.

    Read as plain JSON: the supervising process never imports torch (the children do).
    """
    record = Path(task.run_dir) / "record.json"
    return json.loads(record.read_text())["status"] if record.exists() else None


@dataclass
class TrialChild:
    """A child process, the trial(s) it trains, the GPU it was given (launcher=local) and its exit code once reaped."""

    tasks: tuple[TrialTask, ...]
    pid: int
    gpu: str | None = None
    exit_code: int | None = None

    def poll(self) -> int | None:
        """The exit code, reaping the child if it has exited; never blocks (no lock: safe in signal handlers)."""
        if self.exit_code is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0
            if pid != 0:
                self.exit_code = os.waitstatus_to_exitcode(status)
        return self.exit_code

    def send(self, signum: int) -> None:
        """`signum` to the child, unless it has already exited."""
        if self.exit_code is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        self.send(signal.SIGKILL)
        if self.exit_code is None:
            try:
                self.exit_code = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            except ChildProcessError:
                self.exit_code = -signal.SIGKILL

    @property
    def finished(self) -> bool:
        """Exited cleanly with a final status for every trial: a requeue must not run it again."""
        return self.exit_code == 0 and all(run_status(task) in FINISHED for task in self.tasks)

    @property
    def trial_numbers(self) -> list[int]:
        return [task.trial_number for task in self.tasks]


def spawn_trial(tasks: Sequence[TrialTask], task_file: Path, env: Mapping[str, str], stdout: Path,
                stderr: Path | None = None, gpu: str | None = None) -> TrialChild:
    """Start the child on `tasks` (one trial, or a group trained together; pickled to `task_file`), appending to
    `stdout` and `stderr` (None: to `stdout`)."""
    tasks = tuple(tasks)
    task_file.write_bytes(pickle.dumps(tasks))
    append = os.O_WRONLY | os.O_CREAT | os.O_APPEND  # a requeued run keeps the earlier run's lines
    streams = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, str(stdout), append, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, str(stderr), append, 0o644) if stderr else (os.POSIX_SPAWN_DUP2, 1, 2)]
    pid = os.posix_spawn(sys.executable, [sys.executable, "-u", "-m", "gan_study.launch.trial_process", str(task_file)], dict(env),
                         file_actions=streams)
    return TrialChild(tasks, pid, gpu)


def log_to_stderr(logger: logging.Logger) -> None:
    """INFO and above of `logger` on stderr, unless it already has a handler."""
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _die_with_driver() -> None:
    """launcher=local: the kernel sends SIGKILL when the driver process ends, however it ends (and a driver that
    ended before this ran has left the child to init: it ends at once)."""
    driver = os.environ.pop(DRIVER_PID, None)
    if driver is None:
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(driver):
        os.kill(os.getpid(), signal.SIGKILL)


def _install_stop_flag() -> list[bool]:
    """Stop signals set a flag instead of killing: the trainer polls it between steps and checkpoints."""
    flag = [False]

    def _set(signum: int, frame) -> None:
        flag[0] = True

    for signum in STOP_SIGNALS:
        signal.signal(signum, _set)
    return flag


def main(argv: list[str]) -> int:
    """The child: run its trial (or its group of trials) to the end, or checkpoint on a stop signal."""
    flag = _install_stop_flag()  # first, before the slow imports: a signal must never kill a trial
    _die_with_driver()
    log_to_stderr(logging.getLogger())
    tasks: tuple[TrialTask, ...] = pickle.loads(Path(argv[0]).read_bytes())
    from gan_study.study.search.worker import run_trial, run_trials

    if len(tasks) == 1:
        run_trial(tasks[0], should_stop=lambda: flag[0])
    else:
        run_trials(tasks, should_stop=lambda: flag[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
