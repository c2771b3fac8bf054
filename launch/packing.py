"""K trials side by side in one array task (`trials_per_gpu=K`), and the preemption protocol of every SLURM trial.

With `launcher.batch` a child trains a group of trials together (`launch/batching.py`): an array task then runs
`trials_per_gpu` such groups side by side, each in its own child.

The 28×28 models leave a modern GPU mostly idle: packing K of them onto one GPU is how a study finishes in
GPU-hours instead of GPU-days. Each trial runs in its own child process (`launch/trial_process.py`; no CUDA context, allocator or
BatchNorm state is ever shared between trials), all children share the array task's GPU through the inherited
CUDA_VISIBLE_DEVICES, and each writes its own log files and reports its own result to the study's storage.

Preemption: `TrialGroup` is submitit-Checkpointable. On the time-limit / preemption signal (USR2) submitit calls
`checkpoint()`, which forwards the signal, waits until every child has saved its training state and returned
"interrupted", and hands submitit a group of the unfinished trials, which submitit requeues. SIGTERM (scancel,
`scontrol requeue`, preemption without a user signal) stops the children the same way; the scheduler decides
whether the job comes back, and `gan_study.launch.reconcile` re-submits trials whose job did not.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from typing import Sequence

from submitit.helpers import Checkpointable, DelayedSubmission

from gan_study.launch.trial_process import TrialChild, log_to_stderr, run_status, spawn_trial
from gan_study.study.search.task import TrialTask

log = logging.getLogger("gan_study.launch")

POLL_S = 0.5


def trial_log_paths(log_dir: Path | str, *trial_numbers: int) -> tuple[Path, Path]:
    """Where one child's stdout and stderr go inside its job's log folder (what `gan-sweep logs` prints): the
    trial's, or a batched group's (`trial_3+4.out`)."""
    name = "trial_" + "+".join(map(str, trial_numbers))
    return Path(log_dir) / f"{name}.out", Path(log_dir) / f"{name}.err"


class TrialGroup(Checkpointable):
    """The callable one array task runs: its trials, each in a child process, all on the task's GPU(s).

    Each item of `tasks` is a trial, or a batched group of trials (a sequence) that one child trains together.

    `log_dir=None` means the submitit job's own folder (`<study>/logs/<job id>/`), known only once running.
    `grace_s` bounds the wait for the children to checkpoint after a stop signal (keep it below the
    scheduler's kill delay: `signal_delay_s` for USR2, KillWait for SIGTERM).
    """

    def __init__(self, tasks: Sequence[TrialTask | Sequence[TrialTask]], threads_per_trial: int | None = None,
                 grace_s: float = 60.0, log_dir: str | None = None):
        if not tasks:
            raise ValueError("TrialGroup needs at least one TrialTask")
        self.units = tuple((unit,) if isinstance(unit, TrialTask) else tuple(unit) for unit in tasks)
        self.threads_per_trial = threads_per_trial
        self.grace_s = grace_s
        self.log_dir = log_dir
        self._children: list[TrialChild] = []
        self._stop_signal: int | None = None

    def __getstate__(self) -> dict:
        """Pickled for submission and at checkpoint: the running children never travel."""
        state = dict(self.__dict__)
        state["_children"], state["_stop_signal"] = [], None
        return state

    # -- running ------------------------------------------------------------------------------------

    def __call__(self) -> dict[int, str | None]:
        """Run every trial to its end (or to a stop signal); return trial number -> run status."""
        log_to_stderr(logging.getLogger("gan_study"))  # submitit's own logger already writes there
        log_dir = Path(self.log_dir) if self.log_dir else _submitit_job_folder()
        log_dir.mkdir(parents=True, exist_ok=True)
        # submitit only logs SIGTERM; our trials must checkpoint on it (KillWait follows, then SIGKILL).
        signal.signal(signal.SIGTERM, self._on_terminate)
        log.info("array task: trial(s) %s on CUDA_VISIBLE_DEVICES=%s, logs in %s",
                 [[t.trial_number for t in unit] for unit in self.units],
                 os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"), log_dir)
        # A trial whose run already finished still starts: its worker reports the stored result if it never did.
        self._children = [self._start(unit, log_dir) for unit in self.units]
        while self._reap():
            time.sleep(POLL_S)
        outcome = {task.trial_number: run_status(task) for child in self._children for task in child.tasks}
        log.info("array task finished: %s", outcome)
        if self._stop_signal is not None and not all(child.finished for child in self._children):
            raise TrialsInterrupted(f"stopped by {signal.Signals(self._stop_signal).name} with unfinished trials "
                                    f"{outcome}; they resume from their checkpoints when re-run")
        return outcome

    def _start(self, unit: tuple[TrialTask, ...], log_dir: Path) -> TrialChild:
        out_path, err_path = trial_log_paths(log_dir, *(task.trial_number for task in unit))
        env = {**os.environ, "GAN_STUDY_LOG_PATH": str(out_path)}  # the worker links it from the trial
        if self.threads_per_trial:
            env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(self.threads_per_trial)
        child = spawn_trial(unit, out_path.with_suffix(".task.pkl"), env, out_path, err_path)
        log.info("trial(s) %s: pid %d, stdout %s", child.trial_numbers, child.pid, out_path)
        return child

    def _reap(self) -> bool:
        """Collect exited children without blocking (this also runs inside signal handlers)."""
        running = False
        for child in self._children:
            if child.exit_code is not None:
                continue
            if child.poll() is None:
                running = True
                continue
            log.info("trial(s) %s: exit code %d, status %s", child.trial_numbers, child.exit_code,
                     [run_status(task) for task in child.tasks])
        return running

    # -- stopping -----------------------------------------------------------------------------------

    def _stop_children(self, signum: int) -> None:
        """Forward `signum` to every running child and wait (at most grace_s) until each has checkpointed."""
        self._stop_signal = signum
        for child in self._children:
            child.send(signum)
        deadline = time.monotonic() + self.grace_s
        while self._reap():
            if time.monotonic() > deadline:
                log.warning("children still running %.0f s after %s: killing them (they resume from their "
                            "last periodic checkpoint)", self.grace_s, signal.Signals(signum).name)
                for child in self._children:
                    child.send(signal.SIGKILL)
                deadline = float("inf")
            time.sleep(POLL_S / 5)

    def _on_terminate(self, signum: int, frame) -> None:
        log.warning("caught %s: stopping the trials at their next step", signal.Signals(signum).name)
        self._stop_children(signum)

    def checkpoint(self) -> DelayedSubmission:
        """submitit's preemption / time-limit hook: checkpoint every trial, requeue the unfinished ones."""
        log.warning("preemption or time limit: checkpointing %d trial(s)", len(self._children))
        self._stop_children(signal.SIGUSR2)
        unfinished = [child.tasks for child in self._children if not child.finished]
        log.info("requeueing with trials %s", [[task.trial_number for task in unit] for unit in unfinished])
        if not unfinished:  # all finished during the grace period: the requeued task returns at once
            unfinished = list(self.units)
        return DelayedSubmission(TrialGroup(unfinished, self.threads_per_trial, self.grace_s, self.log_dir))


class TrialsInterrupted(RuntimeError):
    """A stop signal ended the group with unfinished trials (the job is requeued or cancelled by SLURM)."""


def _submitit_job_folder() -> Path:
    import submitit

    return submitit.JobEnvironment().paths.folder
