"""K trials side by side in one array task (`trials_per_gpu=K`), and the preemption protocol of every SLURM trial.

The 28×28 models leave a modern GPU mostly idle: packing K of them onto one GPU is how a study finishes in
GPU-hours instead of GPU-days. Each trial runs in its own child process (no CUDA context, allocator or
BatchNorm state is ever shared between trials), all children share the array task's GPU through the inherited
CUDA_VISIBLE_DEVICES, and each writes its own log files and reports its own result to the study's storage.

Preemption: `TrialGroup` is submitit-Checkpointable. On the time-limit / preemption signal (USR2) submitit calls
`checkpoint()`, which forwards the signal, waits until every child has saved its training state and returned
"interrupted", and hands submitit a group of the unfinished trials, which submitit requeues. SIGTERM (scancel,
`scontrol requeue`, preemption without a user signal) stops the children the same way; the scheduler decides
whether the job comes back, and `gan_study.launch.reconcile` re-submits trials whose job did not.
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from submitit.helpers import Checkpointable, DelayedSubmission

from gan_study.study.search.task import TrialTask

log = logging.getLogger("gan_study.launch")

STOP_SIGNALS = (signal.SIGUSR2, signal.SIGTERM, signal.SIGINT)
"""Any of these tells a trial process to checkpoint and return `interrupted` (never to die mid-step)."""

FINISHED = ("completed", "diverged", "failed")
"""Run statuses (record.json) that a requeue must not run again."""

POLL_S = 0.5


def trial_log_paths(log_dir: Path | str, trial_number: int) -> tuple[Path, Path]:
    """Where one trial's stdout and stderr go inside its job's log folder (what `gan-sweep logs` prints)."""
    log_dir = Path(log_dir)
    return log_dir / f"trial_{trial_number}.out", log_dir / f"trial_{trial_number}.err"


def run_status(task: TrialTask) -> str | None:
    """The status the trial's run folder reports (record.json), or None when the run never wrote one.

    Read as plain JSON: the supervising process never imports torch (the children do).
    """
    record = Path(task.run_dir) / "record.json"
    return json.loads(record.read_text())["status"] if record.exists() else None


@dataclass
class _Child:
    task: TrialTask
    pid: int
    exit_code: int | None = None

    @property
    def finished(self) -> bool:
        """Exited cleanly with a final status: a requeue must not run it again."""
        return self.exit_code == 0 and run_status(self.task) in FINISHED


class TrialGroup(Checkpointable):
    """The callable one array task runs: its trials, each in a child process, all on the task's GPU(s).

    `log_dir=None` means the submitit job's own folder (`<study>/logs/<job id>/`), known only once running.
    `grace_s` bounds the wait for the children to checkpoint after a stop signal (keep it below the
    scheduler's kill delay: `signal_delay_s` for USR2, KillWait for SIGTERM).
    """

    def __init__(self, tasks: Sequence[TrialTask], threads_per_trial: int | None = None,
                 grace_s: float = 60.0, log_dir: str | None = None):
        if not tasks:
            raise ValueError("TrialGroup needs at least one TrialTask")
        self.tasks = tuple(tasks)
        self.threads_per_trial = threads_per_trial
        self.grace_s = grace_s
        self.log_dir = log_dir
        self._children: list[_Child] = []
        self._stop_signal: int | None = None

    def __getstate__(self) -> dict:
        """Pickled for submission and at checkpoint: the running children never travel."""
        state = dict(self.__dict__)
        state["_children"], state["_stop_signal"] = [], None
        return state

    # -- running ------------------------------------------------------------------------------------

    def __call__(self) -> dict[int, str | None]:
        """Run every trial to its end (or to a stop signal); return trial number -> run status."""
        _log_to_stderr(logging.getLogger("gan_study"))  # submitit's own logger already writes there
        log_dir = Path(self.log_dir) if self.log_dir else _submitit_job_folder()
        log_dir.mkdir(parents=True, exist_ok=True)
        # submitit only logs SIGTERM; our trials must checkpoint on it (KillWait follows, then SIGKILL).
        signal.signal(signal.SIGTERM, self._on_terminate)
        log.info("array task: trial(s) %s on CUDA_VISIBLE_DEVICES=%s, logs in %s",
                 [t.trial_number for t in self.tasks], os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"), log_dir)
        # A trial whose run already finished still starts: its worker reports the stored result if it never did.
        self._children = [self._start(task, log_dir) for task in self.tasks]
        while self._reap():
            time.sleep(POLL_S)
        outcome = {child.task.trial_number: run_status(child.task) for child in self._children}
        log.info("array task finished: %s", outcome)
        if self._stop_signal is not None and not all(child.finished for child in self._children):
            raise TrialsInterrupted(f"stopped by {signal.Signals(self._stop_signal).name} with unfinished trials "
                                    f"{outcome}; they resume from their checkpoints when re-run")
        return outcome

    def _start(self, task: TrialTask, log_dir: Path) -> _Child:
        task_file = log_dir / f"trial_{task.trial_number}.task.pkl"
        task_file.write_bytes(pickle.dumps(task))
        out_path, err_path = trial_log_paths(log_dir, task.trial_number)
        env = {**os.environ, "GAN_STUDY_LOG_PATH": str(out_path)}  # the worker links it from the trial
        if self.threads_per_trial:
            env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(self.threads_per_trial)
        append = os.O_WRONLY | os.O_CREAT | os.O_APPEND  # a requeued run keeps the earlier run's lines
        # posix_spawn, not Popen: we reap with os.waitpid, which (unlike Popen.wait) is safe in signal handlers
        pid = os.posix_spawn(sys.executable, [sys.executable, "-u", "-m", "gan_study.launch.packing", str(task_file)], env,
                             file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                                           (os.POSIX_SPAWN_OPEN, 1, str(out_path), append, 0o644),
                                           (os.POSIX_SPAWN_OPEN, 2, str(err_path), append, 0o644)])
        log.info("trial %d: pid %d, stdout %s", task.trial_number, pid, out_path)
        return _Child(task, pid)

    def _reap(self) -> bool:
        """Collect exited children without blocking (no lock: this also runs inside signal handlers)."""
        running = False
        for child in self._children:
            if child.exit_code is not None:
                continue
            try:
                pid, status = os.waitpid(child.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = child.pid, 0
            if pid == 0:
                running = True
                continue
            child.exit_code = os.waitstatus_to_exitcode(status)
            log.info("trial %d: exit code %d, status %s", child.task.trial_number, child.exit_code,
                     run_status(child.task))
        return running

    # -- stopping -----------------------------------------------------------------------------------

    def _stop_children(self, signum: int) -> None:
        """Forward `signum` to every running child and wait (at most grace_s) until each has checkpointed."""
        self._stop_signal = signum
        for child in self._children:
            if child.exit_code is None:
                try:
                    os.kill(child.pid, signum)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + self.grace_s
        while self._reap():
            if time.monotonic() > deadline:
                log.warning("children still running %.0f s after %s: killing them (they resume from their "
                            "last periodic checkpoint)", self.grace_s, signal.Signals(signum).name)
                for child in self._children:
                    if child.exit_code is None:
                        os.kill(child.pid, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(POLL_S / 5)

    def _on_terminate(self, signum: int, frame) -> None:
        log.warning("caught %s: stopping the trials at their next step", signal.Signals(signum).name)
        self._stop_children(signum)

    def checkpoint(self) -> DelayedSubmission:
        """submitit's preemption / time-limit hook: checkpoint every trial, requeue the unfinished ones."""
        log.warning("preemption or time limit: checkpointing %d trial(s)", len(self._children))
        self._stop_children(signal.SIGUSR2)
        unfinished = [child.task for child in self._children if not child.finished]
        log.info("requeueing with trials %s", [task.trial_number for task in unfinished])
        if not unfinished:  # all finished during the grace period: the requeued task returns at once
            unfinished = list(self.tasks)
        return DelayedSubmission(TrialGroup(unfinished, self.threads_per_trial, self.grace_s, self.log_dir))


class TrialsInterrupted(RuntimeError):
    """A stop signal ended the group with unfinished trials (the job is requeued or cancelled by SLURM)."""


def _log_to_stderr(logger: logging.Logger) -> None:
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _submitit_job_folder() -> Path:
    import submitit

    return submitit.JobEnvironment().paths.folder


def _install_stop_flag() -> list[bool]:
    """Stop signals set a flag instead of killing: the trainer polls it between steps and checkpoints."""
    flag = [False]

    def _set(signum: int, frame) -> None:
        flag[0] = True

    for signum in STOP_SIGNALS:
        signal.signal(signum, _set)
    return flag


def main(argv: list[str]) -> int:
    """A child: run one trial (`python -m gan_study.launch.packing <task.pkl>`)."""
    flag = _install_stop_flag()  # first, before the slow imports: a signal must never kill a trial
    _log_to_stderr(logging.getLogger())
    task: TrialTask = pickle.loads(Path(argv[0]).read_bytes())
    from gan_study.study.search.worker import run_trial

    run_trial(task, should_stop=lambda: flag[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
