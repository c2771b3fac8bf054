"""launcher=local: each trial in its own child process, at most `max_parallel` at once, GPUs dealt round-robin.

With `launcher.batch=K` a child trains a group of up to K trials together (`launch/batching.py`).

Children run `python -m gan_study.launch.trial_process <task.pkl>` (the same trial process SLURM array tasks start),
which checkpoints and gives the trial back on SIGTERM/SIGINT. They die with the driver (PR_SET_PDEATHSIG), so a
killed sweep leaves no orphan training: its RUNNING trials are found dead and resumed by the next run.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from collections import deque
from pathlib import Path
from typing import Any, Mapping

from gan_study.launch.base import Executor, JobRef
from gan_study.launch.batching import batch_setting, local_device_kind, measured_batch
from gan_study.launch.trial_process import DRIVER_PID, TrialChild, spawn_trial
from gan_study.models.checks import integer, refuse
from gan_study.study.config import ConfigError
from gan_study.study.search.task import TrialTask

log = logging.getLogger("gan_study.launch")

STOP_GRACE_S = 120.0


def visible_gpus(setting: Any) -> list[str]:
    """`auto`: CUDA_VISIBLE_DEVICES if set, else every GPU torch sees; or an explicit list ([] = CPU only)."""
    if setting == "auto":
        if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
            return [d for d in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip()]
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    if isinstance(setting, (list, tuple)) and all(isinstance(d, (int, str)) for d in setting):
        return [str(d) for d in setting]
    refuse("launcher.gpus", setting, "auto, or a list of GPU ids such as [0, 1] ([] = none)")


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, max_parallel: int = 1, gpus: Any = "auto", threads_per_trial: int | None = None,
                 batch: Any = "off"):
        integer("launcher.max_parallel", max_parallel, 1)
        integer("launcher.threads_per_trial", threads_per_trial, 1, optional=True)
        setting = batch_setting(batch)
        self.gpus = visible_gpus(gpus)
        self.batch = measured_batch(local_device_kind(self.gpus)) if setting == "auto" else setting
        self.processes = max_parallel
        self.capacity = max_parallel * self.batch
        self.threads = threads_per_trial or max(1, (os.cpu_count() or 1) // max_parallel)
        self._pending: deque[tuple[list[JobRef], list[TrialTask]]] = deque()
        self._running: dict[JobRef, TrialChild] = {}
        """Each running trial's child; the trials of a batched group share theirs."""
        self._ended: dict[JobRef, str] = {}
        self._count = 0
        self._next_gpu = 0

    @classmethod
    def from_config(cls, launcher: Mapping[str, Any], study_dir: Path) -> LocalExecutor:
        known = {"name", "max_parallel", "gpus", "threads_per_trial", "batch"}
        for key in launcher:
            if key not in known:
                raise ConfigError(f"launcher.{key} is not allowed for launcher=local: keys are {sorted(known)}")
        return cls(launcher.get("max_parallel", 1), launcher.get("gpus", "auto"), launcher.get("threads_per_trial"),
                   launcher.get("batch", "off"))

    def submit(self, tasks: list[TrialTask]) -> list[JobRef]:
        return self.submit_groups([[task] for task in tasks])

    def submit_groups(self, groups: list[list[TrialTask]]) -> list[JobRef]:
        """One child per group (a lone trial is a group of one); its log is `logs/trial_<n>[+<m>...].log`."""
        refs = []
        for group in groups:
            self._count += 1
            log_path = Path(group[0].run_dir).parent / "logs" / \
                f"trial_{'+'.join(str(task.trial_number) for task in group)}.log"
            group_refs = [JobRef(self.name, f"local-{os.getpid()}-{self._count}", task.trial_number, str(log_path))
                          for task in group]
            self._pending.append((group_refs, group))
            refs.extend(group_refs)
        self._start_pending()
        return refs

    def _children(self) -> list[TrialChild]:
        """The running children, each once."""
        return list({id(child): child for child in self._running.values()}.values())

    def _pick_gpu(self) -> str | None:
        """The visible GPU with the fewest of our trials on it (round-robin among equals)."""
        if not self.gpus:
            return None
        load = {gpu: 0 for gpu in self.gpus}
        for child in self._children():
            if child.gpu in load:
                load[child.gpu] += 1
        order = self.gpus[self._next_gpu:] + self.gpus[:self._next_gpu]
        gpu = min(order, key=lambda g: load[g])
        self._next_gpu = (self.gpus.index(gpu) + 1) % len(self.gpus)
        return gpu

    def _start_pending(self) -> None:
        while self._pending and len(self._children()) < self.processes:
            refs, group = self._pending.popleft()
            log_path = Path(refs[0].log_path)
            log_path.parent.mkdir(parents=True, exist_ok=True)
            gpu = self._pick_gpu()
            env = {**os.environ, "GAN_STUDY_JOB_ID": refs[0].job_id, "GAN_STUDY_LOG_PATH": str(log_path),
                   "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads),
                   DRIVER_PID: str(os.getpid())}
            if gpu is not None:
                env["CUDA_VISIBLE_DEVICES"] = gpu
            child = spawn_trial(group, log_path.with_suffix(".task.pkl"), env, log_path, gpu=gpu)
            self._running.update((ref, child) for ref in refs)
            log.info("trial%s %s of %s: pid %d%s, log %s", "s" if len(group) > 1 else "",
                     ", ".join(map(str, child.trial_numbers)), group[0].study_name, child.pid,
                     f" on GPU {gpu}" if gpu is not None else "", log_path)

    def _reap(self) -> None:
        for ref, child in list(self._running.items()):
            code = child.poll()
            if code is not None:
                self._ended[ref] = "COMPLETED" if code == 0 else "FAILED"
                if code != 0:
                    log.warning("trial %d: worker exited with code %d (log %s)", ref.trial_number, code, ref.log_path)
                del self._running[ref]

    def states(self, jobs: list[JobRef]) -> dict[JobRef, str]:
        self._reap()
        self._start_pending()
        pending = {ref for refs, _ in self._pending for ref in refs}
        return {job: "PENDING" if job in pending else "RUNNING" if job in self._running
                else self._ended.get(job, "LOST") for job in jobs}

    def request_stop(self) -> None:
        """SIGTERM to every child: each checkpoints and gives its trial(s) back."""
        for child in self._children():
            child.send(signal.SIGTERM)

    def stop(self) -> None:
        """`request_stop`, drop the pending trials, and wait for the children; SIGKILL after STOP_GRACE_S."""
        for refs, _ in self._pending:
            self._ended.update((ref, "CANCELLED") for ref in refs)
        self._pending.clear()
        self.request_stop()
        deadline = time.monotonic() + STOP_GRACE_S
        while self._running and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.2)
        for child in self._children():
            child.kill()
        self._reap()
