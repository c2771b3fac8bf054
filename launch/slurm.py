"""launcher=slurm: a study's trials as SLURM job arrays through submitit; `submit` returns once they are queued.

One `sbatch` per study and submission (more only where the cluster's MaxArraySize forces a split), and no
second job for a trial a live job already holds. Each array task runs
a `TrialGroup`: one trial, or `trials_per_gpu` trials side by side on its GPU; with `launcher.batch=K` each of
those is a group of up to K trials that one child trains together (one array task per group by default). Workers report to the study's
storage themselves, so nothing here waits for a job; `states` asks the scheduler (one squeue call, one sacct
call for older jobs) for `gan-sweep status` and for reconciliation.
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

from gan_study.launch.base import TERMINAL, Executor, JobRef
from gan_study.launch.batching import batch_setting
from gan_study.launch.packing import TrialGroup, trial_log_paths
from gan_study.launch.reconcile import live_jobs, record_jobs
from gan_study.models.checks import check, integer, is_integer, is_text
from gan_study.study.search.task import TrialTask

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
    batch: int
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
            check(key in names or key == "name", f"launcher.{key}", launcher[key], f"a known key: {names}")
        for key in names:
            check(key in launcher, f"launcher.{key}", "<missing>", "a value (see conf/launcher/slurm.yaml)")
        raw = {key: launcher[key] for key in names}
        for key in ("partition", "account", "qos", "constraint", "python"):
            check(raw[key] is None or is_text(raw[key]), f"launcher.{key}", raw[key], "a non-empty string or null")
        check(is_text(raw["job_name"]), "launcher.job_name", raw["job_name"], "a non-empty string")
        for key, minimum in (("timeout_min", 1), ("gpus_per_node", 0), ("cpus_per_task", 1), ("trials_per_gpu", 1),
                             ("array_parallelism", 1), ("max_requeues", 0), ("signal_delay_s", 0)):
            integer(f"launcher.{key}", raw[key], minimum)
        size = raw["max_array_size"]
        check(size is None or (is_integer(size) and size >= 1), "launcher.max_array_size", size,
              "an integer >= 1, or null for the cluster's MaxArraySize")
        mem = raw["mem_gb"]
        check(mem is None or (isinstance(mem, (int, float)) and not isinstance(mem, bool) and mem > 0),
              "launcher.mem_gb", mem, "a positive number of GB, or null for the partition's default")
        check(raw["signal_delay_s"] < raw["timeout_min"] * 60, "launcher.signal_delay_s", raw["signal_delay_s"],
              f"fewer seconds than the time limit ({raw['timeout_min'] * 60} s): the checkpoint signal must come "
              "before the end")
        extra = raw["sbatch_extra"] or {}
        check(isinstance(extra, Mapping) and all(isinstance(k, str) and isinstance(v, (str, int, float, bool))
                                                 for k, v in extra.items()),
              "launcher.sbatch_extra", extra, "a mapping of sbatch flag -> value, e.g. {mail-type: END}")
        setup = raw["setup"] or []
        check(isinstance(setup, Sequence) and not isinstance(setup, str) and all(isinstance(x, str) for x in setup),
              "launcher.setup", setup, "a list of shell lines, e.g. ['module load cuda']")
        return cls(**{**raw, "sbatch_extra": dict(extra), "setup": tuple(setup), "batch": _batch(raw["batch"]),
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


class SlurmExecutor(Executor):
    """Trials → `TrialGroup`s of `trials_per_gpu` → job arrays of at most MaxArraySize tasks, one sbatch each.

    A submission makes one array per study: per-job files (the sbatch script, submitit's pickles and logs, each
    trial's stdout/stderr) live under `<study folder>/logs/<job id>/`, beside the trials' run folders
    (`<runs_root>/<study>/<trial>/`), on a file system the compute nodes share.
    """

    name = "slurm"
    detached = True

    def __init__(self, settings: SlurmSettings):
        self.settings = settings

    @property
    def concurrency(self) -> int:
        """Array tasks running at once × the trials packed in each."""
        return self.settings.array_parallelism * self.settings.trials_per_gpu * self.batch

    @property
    def batch(self) -> int:
        return self.settings.batch

    @classmethod
    def from_config(cls, launcher: Mapping[str, Any], study_dir: Path) -> SlurmExecutor:
        """`study_dir` (the runs root) is not needed: each trial's run folder names its study folder."""
        return cls(SlurmSettings.from_config(launcher))

    @property
    def max_array_size(self) -> int:
        return self.settings.max_array_size or cluster_max_array_size()

    def _submitit_executor(self, log_root: Path) -> submitit.AutoExecutor:
        """submitit's SLURM executor writing under `log_root/<job id>/`, with every configured resource."""
        executor = submitit.AutoExecutor(folder=log_root / "%j", cluster="slurm",
                                         slurm_max_num_timeout=self.settings.max_requeues,
                                         slurm_python=self.settings.python)
        executor.update_parameters(**self.settings.submitit_parameters())
        return executor

    def submit(self, tasks: list[TrialTask]) -> list[JobRef]:
        """Queue every task and return at once: one JobRef per task, in order (packed trials share a job id)."""
        return self.submit_groups([[task] for task in tasks])

    def submit_groups(self, groups: list[list[TrialTask]]) -> list[JobRef]:
        """Queue every group (one child each; a lone trial is a group of one) and return at once: one JobRef per
        task, in order.

        Idempotent per trial: a trial whose recorded job is still queued or running (an earlier `gan-sweep`
        submitted it, or SLURM requeued it) gets that job's ref back instead of a second job; the rest of its
        group is submitted without it.
        """
        tasks = [task for group in groups for task in group]
        refs: dict[int, JobRef] = live_jobs(tasks, self)
        if refs:
            log.info("%d trial(s) already have a queued or running job: not submitted again", len(refs))
        by_study: dict[Path, list[list[tuple[int, TrialTask]]]] = {}
        index = 0
        for group in groups:
            unit = [(i, task) for i, task in enumerate(group, start=index) if i not in refs]
            index += len(group)
            if unit:
                by_study.setdefault(Path(unit[0][1].run_dir).absolute().parent, []).append(unit)
        for study_dir, units in by_study.items():
            submitted = self._submit_study(study_dir / "logs", units)
            record_jobs([tasks[i] for i in submitted], list(submitted.values()))
            refs.update(submitted)
        return [refs[index] for index in range(len(tasks))]

    def _submit_study(self, log_root: Path, units: list[list[tuple[int, TrialTask]]]) -> dict[int, JobRef]:
        k = self.settings.trials_per_gpu
        # the children must checkpoint before the scheduler's SIGKILL, signal_delay_s after USR2
        grace_s = max(5.0, self.settings.signal_delay_s - 10.0)
        packs = [units[i:i + k] for i in range(0, len(units), k)]
        executor = self._submitit_executor(log_root)
        refs: dict[int, JobRef] = {}
        size = self.max_array_size
        for start in range(0, len(packs), size):
            chunk = packs[start:start + size]
            groups = [TrialGroup([[task for _, task in unit] for unit in pack], self.settings.threads_per_trial,
                                 grace_s) for pack in chunk]
            jobs = executor.submit_array(groups)
            for job, pack in zip(jobs, chunk):
                for unit in pack:
                    stdout, _ = trial_log_paths(job.paths.folder, *(task.trial_number for _, task in unit))
                    for index, task in unit:
                        refs[index] = JobRef(self.name, job.job_id, task.trial_number, str(stdout))
            log.info("submitted %d trial(s) as %d array task(s) of job %s; logs in %s",
                     sum(len(unit) for pack in chunk for unit in pack), len(chunk), jobs[0].job_id.split("_")[0],
                     log_root)
        return refs

    def states(self, jobs: list[JobRef]) -> dict[JobRef, str]:
        """Scheduler state of each job: one squeue call, plus one sacct call for jobs the controller has forgotten."""
        by_id = scheduler_states([job.job_id for job in jobs])
        return {job: by_id[job.job_id] for job in jobs}

    def cancel(self, jobs: list[JobRef]) -> None:
        """One scancel for every job (array tasks by their own id; packed trials share one)."""
        ids = sorted({job.job_id for job in jobs}, key=lambda job_id: (len(job_id), job_id))
        if ids:
            _scheduler(["scancel", *ids])


def _batch(value: object) -> int:
    """`launcher.batch` for SLURM: `auto` is off here, since the driver cannot see the nodes' device to look its
    rates up (`launch/batching.py`); give K to batch on a cluster."""
    setting = batch_setting(value)
    if setting == "auto":
        log.info("launcher.batch=auto with launcher=slurm: the driver cannot measure the nodes' device; one trial "
                 "per process (give launcher.batch=K to batch)")
        return 1
    return setting


@functools.cache
def cluster_max_array_size() -> int:
    """MaxArraySize from `scontrol show config` (an array's indices must stay below it), read once."""
    out = _scheduler(["scontrol", "show", "config"])
    match = re.search(r"^MaxArraySize\s*=\s*(\d+)", out, re.MULTILINE)
    if match is None:
        raise SchedulerError("`scontrol show config` printed no MaxArraySize line")
    return int(match.group(1))


SLURM_JOB_ID = re.compile(r"\d+(_\d+)?")
"""A job (`123`) or an array task (`123_4`): what `states` asks SLURM about."""


def scheduler_states(job_ids: Sequence[str]) -> dict[str, str]:
    """State of each job id (`123` or array task `123_4`), `UNKNOWN` where SLURM knows nothing of it.

    One `squeue --states=all` call answers for every job the controller still holds (queued, running, and
    finished within MinJobAge) without slurmdbd's seconds of lag; one `sacct` call, only when needed, for the
    older ones. An array task cancelled while pending vanishes from both: UNKNOWN, and never live again.
    """
    slurm_ids = [job_id for job_id in job_ids if SLURM_JOB_ID.fullmatch(job_id)]  # not local-..., pid-...
    known: dict[str, str] = {}
    if slurm_ids:
        try:
            known = parse_job_states(_scheduler(["squeue", "-h", "-t", "all", "-o", "%i|%T", "-j",
                                                 _array_ids(slurm_ids)]))
        except SchedulerError as error:  # a single id the controller does not hold is an error, not an answer
            if "Invalid job id" not in str(error):
                raise
    older = [job_id for job_id in slurm_ids if job_id not in known]
    if older:
        from_sacct = parse_job_states(_scheduler(["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j", _array_ids(older)]))
        # the controller no longer holds these jobs, so a queued or running state in accounting is stale
        known.update({job_id: state if state in TERMINAL else "LOST" for job_id in older
                      if (state := from_sacct.get(job_id)) is not None})
    return {job_id: known.get(job_id, "UNKNOWN") for job_id in job_ids}


def _array_ids(job_ids: Sequence[str]) -> str:
    """`12_3,12_4,15` → `12,15`: asking for an array's id returns all its tasks (one line per running task)."""
    return ",".join(sorted({job_id.split("_")[0] for job_id in job_ids}, key=int))


def parse_job_states(text: str) -> dict[str, str]:
    """`JobID|State` lines (sacct -P, squeue -o %i|%T) → job id → state.

    Expands array ranges (`12_[3-5,7%2]`) and drops the `by <uid>` of `CANCELLED by 0`.
    """
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
