"""launcher=slurm: a study's trials as SLURM job arrays through submitit; the driver returns once they are queued.

One `sbatch` per submission (more only where the cluster's MaxArraySize forces a split). Each array task runs
a `TrialGroup`: one trial, or `trials_per_gpu` trials side by side on its GPU. Workers report to the study's
storage themselves, so nothing here waits for a job; `states` asks the scheduler (one `sacct` call) for
`gan-sweep status` and for reconciliation.
"""
from __future__ import annotations

import functools
import logging
import re
import subprocess
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import submitit

from launch.base import Executor, JobRef
from launch.packing import TrialGroup, trial_log_paths
from study.config import ConfigError
from study.search.task import TrialTask

log = logging.getLogger("gan_study.launch")


@dataclass(frozen=True)
class SlurmSettings:
    """`conf/launcher/slurm.yaml`, validated (the YAML holds the defaults; docs/cluster.md explains each field)."""

    partition: str | None
    account: str | None
    qos: str | None
    constraint: str | None
    timeout_min: int
    gpus_per_node: int
    cpus_per_task: int
    mem_gb: float | None
    trials_per_gpu: int
    array_parallelism: int
    max_array_size: int | None
    max_requeues: int
    signal_delay_s: int
    job_name: str
    sbatch_extra: dict[str, Any]
    setup: tuple[str, ...]
    python: str | None

    @classmethod
    def from_config(cls, launcher: Mapping[str, Any]) -> SlurmSettings:
        """Validate the `launcher` config group; a `ConfigError` names the field, the value and what is allowed."""
        names = [f.name for f in fields(cls)]
        for key in launcher:
            _check(key in names or key == "name", f"launcher.{key}", launcher[key], f"a known key: {names}")
        for key in names:
            _check(key in launcher, f"launcher.{key}", "<missing>", "a value (see conf/launcher/slurm.yaml)")
        raw = {key: launcher[key] for key in names}
        for key in ("partition", "account", "qos", "constraint", "python"):
            _check(raw[key] is None or _is_text(raw[key]), f"launcher.{key}", raw[key], "a non-empty string or null")
        _check(_is_text(raw["job_name"]), "launcher.job_name", raw["job_name"], "a non-empty string")
        for key, minimum in (("timeout_min", 1), ("gpus_per_node", 0), ("cpus_per_task", 1), ("trials_per_gpu", 1),
                             ("array_parallelism", 1), ("max_requeues", 0), ("signal_delay_s", 0)):
            _check(_is_int(raw[key]) and raw[key] >= minimum, f"launcher.{key}", raw[key], f"an integer >= {minimum}")
        size = raw["max_array_size"]
        _check(size is None or (_is_int(size) and size >= 1), "launcher.max_array_size", size,
               "an integer >= 1, or null for the cluster's MaxArraySize")
        mem = raw["mem_gb"]
        _check(mem is None or (isinstance(mem, (int, float)) and not isinstance(mem, bool) and mem > 0),
               "launcher.mem_gb", mem, "a positive number of GB, or null for the partition's default")
        _check(raw["signal_delay_s"] < raw["timeout_min"] * 60, "launcher.signal_delay_s", raw["signal_delay_s"],
               f"fewer seconds than the time limit ({raw['timeout_min'] * 60} s): the checkpoint signal must come "
               "before the end")
        extra = raw["sbatch_extra"] or {}
        _check(isinstance(extra, Mapping) and all(isinstance(k, str) and isinstance(v, (str, int, float, bool))
                                                  for k, v in extra.items()),
               "launcher.sbatch_extra", extra, "a mapping of sbatch flag -> value, e.g. {mail-type: END}")
        setup = raw["setup"] or []
        _check(isinstance(setup, Sequence) and not isinstance(setup, str) and all(isinstance(x, str) for x in setup),
               "launcher.setup", setup, "a list of shell lines, e.g. ['module load cuda']")
        return cls(**{**raw, "sbatch_extra": dict(extra), "setup": tuple(setup),
                      "mem_gb": None if mem is None else float(mem)})

    def submitit_parameters(self) -> dict[str, Any]:
        """The `AutoExecutor.update_parameters` arguments: each configured resource, nothing left implicit."""
        params: dict[str, Any] = {
            "name": self.job_name, "timeout_min": self.timeout_min, "cpus_per_task": self.cpus_per_task,
            "tasks_per_node": 1, "nodes": 1,
            "slurm_array_parallelism": self.array_parallelism, "slurm_signal_delay_s": self.signal_delay_s,
            "slurm_setup": list(self.setup), "slurm_additional_parameters": dict(self.sbatch_extra),
        }
        if self.gpus_per_node:
            params["gpus_per_node"] = self.gpus_per_node
        if self.mem_gb is not None:
            params["mem_gb"] = self.mem_gb
        for key in ("partition", "account", "qos", "constraint"):
            if getattr(self, key) is not None:
                params[f"slurm_{key}"] = getattr(self, key)
        return params

    @property
    def threads_per_trial(self) -> int:
        """Packed trials split the task's CPUs, so K trials never oversubscribe them."""
        return max(1, self.cpus_per_task // self.trials_per_gpu)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _check(ok: bool, name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{name} = {value!r} is not allowed: {allowed}")


class SlurmExecutor(Executor):
    """Trials → `TrialGroup`s of `trials_per_gpu` → job arrays of at most MaxArraySize tasks, one sbatch each.

    Per-job files (sbatch script, submitit pickles and logs, each trial's stdout/stderr) live under
    `<study_dir>/logs/<job id>/`, which must be on a file system the compute nodes share.
    """

    name = "slurm"

    def __init__(self, settings: SlurmSettings, study_dir: Path | str):
        self.settings = settings
        self.log_root = Path(study_dir).absolute() / "logs"
        self._submitit = submitit.AutoExecutor(folder=self.log_root / "%j", cluster="slurm",
                                               slurm_max_num_timeout=settings.max_requeues,
                                               slurm_python=settings.python)
        self._submitit.update_parameters(**settings.submitit_parameters())

    @property
    def max_array_size(self) -> int:
        return self.settings.max_array_size or cluster_max_array_size()

    def submit(self, tasks: list[TrialTask]) -> list[JobRef]:
        """Queue every task; returns at once (one JobRef per trial; packed trials share their job id)."""
        k = self.settings.trials_per_gpu
        # the checkpoint must finish before the scheduler's SIGKILL: signal_delay_s after USR2
        grace_s = max(5.0, self.settings.signal_delay_s - 10.0)
        groups = [TrialGroup(tasks[i:i + k], self.settings.threads_per_trial, grace_s)
                  for i in range(0, len(tasks), k)]
        refs: list[JobRef] = []
        size = self.max_array_size
        for start in range(0, len(groups), size):
            chunk = groups[start:start + size]
            jobs = self._submitit.submit_array(chunk)
            for job, group in zip(jobs, chunk):
                for task in group.tasks:
                    stdout, _ = trial_log_paths(job.paths.folder, task.trial_number)
                    refs.append(JobRef(self.name, job.job_id, task.trial_number, str(stdout)))
            log.info("submitted %d array task(s) (%d trial(s)) as job %s", len(chunk),
                     sum(len(g.tasks) for g in chunk), jobs[0].job_id.split("_")[0])
        return refs

    def states(self, jobs: list[JobRef]) -> dict[JobRef, str]:
        """Scheduler state of each job: one sacct call (plus one squeue call for jobs too new for sacct)."""
        by_id = scheduler_states([job.job_id for job in jobs])
        return {job: by_id[job.job_id] for job in jobs}


@functools.cache
def cluster_max_array_size() -> int:
    """MaxArraySize from `scontrol show config` (an array's indices must stay below it), read once."""
    out = _scheduler(["scontrol", "show", "config"])
    match = re.search(r"^MaxArraySize\s*=\s*(\d+)", out, re.MULTILINE)
    if match is None:
        raise SchedulerError("`scontrol show config` printed no MaxArraySize line")
    return int(match.group(1))


TERMINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                             "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "REVOKED"})
"""Job states after which nothing of the job runs any more (a requeued job is PENDING/REQUEUED, not here)."""


def scheduler_states(job_ids: Sequence[str]) -> dict[str, str]:
    """State of each job id (`123` or array task `123_4`): ONE sacct call, plus one squeue call only for jobs
    sacct has no record of yet (slurmdbd lags submissions by seconds); `UNKNOWN` where neither knows the job."""
    if not job_ids:
        return {}
    known = parse_sacct(_scheduler(["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j", _array_ids(job_ids)]))
    missing = [job_id for job_id in job_ids if job_id not in known]
    if missing:
        try:  # squeue refuses a list of only finished, forgotten ids: then they stay UNKNOWN
            known.update(parse_sacct(_scheduler(["squeue", "-h", "-o", "%i|%T", "-j", _array_ids(missing)])))
        except SchedulerError:
            pass
    return {job_id: known.get(job_id, "UNKNOWN") for job_id in job_ids}


def _array_ids(job_ids: Sequence[str]) -> str:
    """`12_3,12_4,15` → `12,15`: asking for an array's id returns all its tasks (one line per running task)."""
    return ",".join(sorted({job_id.split("_")[0] for job_id in job_ids}, key=int))


def parse_sacct(text: str) -> dict[str, str]:
    """`JobID|State` lines (sacct -P, or squeue -o %i|%T) → job id → state; expands pending array ranges (`12_[3-5,7%2]`), drops `by <uid>`."""
    states: dict[str, str] = {}
    for line in text.splitlines():
        if "|" not in line:
            continue
        job_id, state = line.split("|", 1)
        state = state.split()[0] if state.strip() else "UNKNOWN"
        match = re.fullmatch(r"(\d+)_\[([\d,\-]+)(?:%\d+)?\]", job_id.strip())
        if match is None:
            states[job_id.strip()] = state
            continue
        for part in match.group(2).split(","):
            low, _, high = part.partition("-")
            for index in range(int(low), int(high or low) + 1):
                states[f"{match.group(1)}_{index}"] = state
    return states


class SchedulerError(RuntimeError):
    """A SLURM command failed; the message carries its output."""


def _scheduler(command: list[str]) -> str:
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except FileNotFoundError as error:
        raise SchedulerError(f"`{command[0]}` not found: launcher=slurm needs the SLURM client tools") from error
    if proc.returncode != 0:
        raise SchedulerError(f"`{' '.join(command)}` failed ({proc.returncode}): {proc.stderr.strip()}"
                             + (" — reconciliation needs SLURM accounting (slurmdbd)" if command[0] == "sacct"
                                else ""))
    return proc.stdout
