"""The trial worker every executor runs: claim one trial, train it (resuming its run folder), report it.

Outcomes (Contract 5/6): a completed run is COMPLETE with its objective; a diverged run is COMPLETE with
`status="diverged"` plus its reason and step, scored by the objective's `diverged` rule (default, the paper:
its best evaluation before the divergence, else the worst value; strict: the worst value); a crash is FAIL
with the traceback as `reason` (a refused config, such as a run folder of another protocol, with its message);
a run stopped by a signal (preemption, Ctrl-C) is put back to WAITING and resumes from its checkpoint when
run again. Nothing here imports torch until training starts.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import traceback
from typing import Any, Callable, Mapping, Sequence

import optuna
from optuna.trial import TrialState

from gan_study.study.config import ConfigError
from gan_study.study.data.errors import DatasetNotFoundError
from gan_study.study.search.liveness import Worker
from gan_study.study.search.optuna_adapter import claim, finish
from gan_study.study.search.storage import open_storage
from gan_study.study.search.study import StudyInfo, release, requeue
from gan_study.study.search.task import TrialTask

log = logging.getLogger("gan_study.search")

TrainFn = Callable[..., Any]
"""`train_fn(config: dict, run_dir: str, *, should_stop, on_evaluation)` → a RunRecord or its record.json dict."""

REASON_LIMIT = 20_000
"""Characters of a failure's reason kept in the storage (the run folder keeps the whole record)."""


def train_run(config: dict, run_dir: str, *, should_stop: Callable[[], bool],
              on_evaluation: Callable[[dict], None]) -> Any:
    """The real trainer (Contract 4): validate the trial's config, then train or resume its run folder."""
    from gan_study.study.config import validate
    from gan_study.study.train import run_training

    # validated again, not only when planned: this process imports model.module's loss and checks metric files here
    return run_training(validate(config), run_dir, resume=True, on_evaluation=on_evaluation, should_stop=should_stop)


def scheduler_job_id() -> str | None:
    """The executor's name for this process's job (GAN_STUDY_JOB_ID, else SLURM's), None when run by hand."""
    if os.environ.get("GAN_STUDY_JOB_ID"):
        return os.environ["GAN_STUDY_JOB_ID"]
    if os.environ.get("SLURM_ARRAY_JOB_ID"):
        return f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ.get('SLURM_ARRAY_TASK_ID', '0')}"
    return os.environ.get("SLURM_JOB_ID") or None


class Heartbeat:
    """Refreshes the trial's `heartbeat` attribute, and notices when the trial was taken away from us."""

    def __init__(self, storage: optuna.storages.BaseStorage, trial_id: int, token: str, interval_s: float):
        self.storage, self.trial_id, self.token, self.interval_s = storage, trial_id, token, interval_s
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{trial_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s) and self.lost is None:
            try:
                self.beat()
            except Exception as error:  # noqa: BLE001 - a storage hiccup must not kill the training
                log.warning("heartbeat of trial id %d failed: %s", self.trial_id, error)

    def beat(self) -> None:
        trial = self.storage.get_trial(self.trial_id)
        owner = (trial.user_attrs.get("worker") or {}).get("token")
        if trial.state != TrialState.RUNNING or owner != self.token:
            self.lost = f"the trial is now {trial.state.name} and held by {owner or 'nobody'}"
            log.error("trial %d was taken from this worker (%s): stopping it", trial.number, self.lost)
            return
        self.storage.set_trial_user_attr(self.trial_id, "heartbeat", time.time())


def run_trial(task: TrialTask, *, should_stop: Callable[[], bool] | None = None,
              train_fn: TrainFn | None = None, job_id: str | None = None) -> str | None:
    """Run one trial if it is still WAITING; returns its outcome status, or None when it was not ours to run.

    `job_id` names the executor's job in the trial (default: from the environment, see `scheduler_job_id`).
    """
    trial = ClaimedTrial.claim(task, job_id or scheduler_job_id(), should_stop)
    if trial is None:
        return None
    with trial.heartbeat:
        try:
            record = _as_record((train_fn or train_run)(task.config, task.run_dir, should_stop=trial.stop,
                                                        on_evaluation=trial.on_evaluation))
        except ConfigError as error:  # e.g. its run folder holds a run of another protocol: the message says it all
            record = {"status": "failed", "reason": str(error)}
        except Exception as error:  # noqa: BLE001 - a crash is an outcome of the trial: FAIL with its reason
            record = {"status": "failed", "reason": crash_reason(error)}
    return trial.report(record)


def crash_reason(error: Exception) -> str:
    """A FAIL's reason for a trainer that raised `error` (called inside its `except`): a missing data set in one line
    (the data set, the folder looked in, the gan-prefetch command), any other crash its traceback."""
    return error.one_line if isinstance(error, DatasetNotFoundError) else traceback.format_exc()


def run_trials(tasks: Sequence[TrialTask], *, should_stop: Callable[[], bool] | None = None,
               job_id: str | None = None) -> list[str | None]:
    """Claim the WAITING trials among `tasks` and train them together as one batched group
    (`study/train/batched_run.py`); each is reported as `run_trial` reports it, as soon as it ends (a trial
    stopped by a signal is given back before the others have checkpointed). Returns their outcome statuses
    (None where a trial was not ours to run)."""
    job_id = job_id or scheduler_job_id()
    claimed = [ClaimedTrial.claim(task, job_id, should_stop) for task in tasks]
    ours = [trial for trial in claimed if trial is not None]
    if ours:
        from gan_study.study.train.batched_run import train_group

        with contextlib.ExitStack() as heartbeats:
            for trial in ours:
                heartbeats.enter_context(trial.heartbeat)
            try:
                train_group([trial.task.config for trial in ours], [trial.task.run_dir for trial in ours],
                            should_stop=[trial.stop for trial in ours],
                            on_evaluation=[trial.on_evaluation for trial in ours], on_end=[trial.end for trial in ours])
            except Exception:  # noqa: BLE001 - the group itself crashed: an outcome of each trial still in it
                reason = traceback.format_exc()
                for trial in ours:
                    trial.end({"status": "failed", "reason": reason})
    return [trial.outcome if trial is not None else None for trial in claimed]


class ClaimedTrial:
    """A trial this worker has claimed (WAITING → RUNNING): its heartbeat, its pruner, when it must stop, and how
    its outcome is reported."""

    def __init__(self, task: TrialTask, storage: optuna.storages.BaseStorage, study_id: int, info: StudyInfo,
                 trial_id: int, job_id: str | None, should_stop: Callable[[], bool] | None):
        self.task, self.storage, self.study_id, self.info, self.trial_id = task, storage, study_id, info, trial_id
        self.should_stop = should_stop
        worker = Worker.current()
        for key, value in (("worker", worker.to_dict()), ("job_id", job_id or f"pid-{os.getpid()}"),
                           ("log_path", os.environ.get("GAN_STUDY_LOG_PATH"))):
            if value is not None:
                storage.set_trial_user_attr(trial_id, key, value)
        log.info("trial %d of %s: running in %s", task.trial_number, task.study_name, task.run_dir)
        self.pruning = Pruning(storage, task, info, trial_id) if info.sampler.pruner is not None else None
        self.heartbeat = Heartbeat(storage, trial_id, worker.token, info.heartbeat_s)
        self.ended, self.outcome = False, None

    @classmethod
    def claim(cls, task: TrialTask, job_id: str | None, should_stop: Callable[[], bool] | None) -> ClaimedTrial | None:
        """The trial, claimed for this worker; None (logged) when it is not WAITING."""
        storage = open_storage(task.storage_url)
        study_id, info = _study(storage, task)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, task.trial_number)
        if not _claim(storage, trial_id, task, job_id):
            log.info("trial %d of %s is not waiting (%s): nothing to do", task.trial_number, task.study_name,
                     storage.get_trial(trial_id).state.name)
            return None
        return cls(task, storage, study_id, info, trial_id, job_id, should_stop)

    def on_evaluation(self, row: dict) -> None:
        value = row.get(self.info.objective.metric)
        if value is not None and value == value:  # Optuna refuses NaN; a NaN run is recorded as diverged anyway
            self.storage.set_trial_intermediate_value(self.trial_id, int(row["step"]), float(value))
            if self.pruning is not None:
                self.pruning.check(int(row["step"]))

    def stop(self) -> bool:
        """Stop now: the trial was taken from us, the pruner stopped it, or the process was told to stop."""
        return self.heartbeat.lost is not None or (self.pruning is not None and self.pruning.reason is not None) or \
            (self.should_stop is not None and self.should_stop())

    def end(self, record: Any) -> None:
        """A trial of a group has its outcome: its heartbeat stops and it is reported (once), its group goes on."""
        if not self.ended:
            self.ended = True
            self.heartbeat.__exit__()
            self.outcome = self.report(_as_record(record))

    def report(self, record: dict[str, Any]) -> str | None:
        """Record the outcome in the study (None, nothing recorded, when the trial was taken from us)."""
        if self.heartbeat.lost is not None:
            return None
        if self.pruning is not None and self.pruning.reason is not None and record["status"] == "interrupted":
            record = {**record, "status": "pruned", "reason": self.pruning.reason}  # a finished run stays finished
        return _report(self.storage, self.study_id, self.trial_id, self.task, self.info, record)


class Pruning:
    """Asks the study's pruner, after each reported evaluation, whether this trial is clearly behind."""

    def __init__(self, storage: optuna.storages.BaseStorage, task: TrialTask, info: StudyInfo, trial_id: int):
        self.pruner = info.sampler.build_pruner()
        self.study = optuna.load_study(study_name=task.study_name, storage=storage, pruner=self.pruner)
        self.storage, self.trial_id = storage, trial_id
        self.reason: str | None = None

    def check(self, step: int) -> None:
        if self.reason is None and self.pruner.prune(self.study, self.storage.get_trial(self.trial_id)):
            self.reason = f"pruned by {type(self.pruner).__name__} after the evaluation at step {step}"


def _claim(storage: optuna.storages.BaseStorage, trial_id: int, task: TrialTask, job_id: str | None) -> bool:
    """WAITING → RUNNING, atomically. A trial still RUNNING under our own job id was held by this job's
    previous incarnation, which the scheduler ended before restarting the job (requeue after a node failure):
    it is taken over at once instead of waiting for the heartbeat grace period."""
    if claim(storage, trial_id):
        return True
    trial = storage.get_trial(trial_id)
    if job_id is None or trial.state != TrialState.RUNNING or trial.user_attrs.get("job_id") != job_id:
        return False
    study = optuna.load_study(study_name=task.study_name, storage=storage)
    if requeue(task.storage_url, study, task.trial_number, f"its job {job_id} was restarted",
               job_id=job_id) != "requeued":
        return False
    return claim(storage, trial_id)


_STUDIES: dict[tuple[int, str, str], tuple[int, StudyInfo]] = {}


def _study(storage: optuna.storages.BaseStorage, task: TrialTask) -> tuple[int, StudyInfo]:
    """The study's id and settings, read once per process (a debug sweep runs many trials in one)."""
    key = (os.getpid(), task.storage_url, task.study_name)
    if key not in _STUDIES:
        study_id = storage.get_study_id_from_name(task.study_name)
        _STUDIES[key] = study_id, StudyInfo.read(storage, study_id)
    return _STUDIES[key]


def _as_record(record: Any) -> dict[str, Any]:
    return record.to_dict() if hasattr(record, "to_dict") else dict(record)


def _report(storage: optuna.storages.BaseStorage, study_id: int, trial_id: int, task: TrialTask,
            info: StudyInfo, record: Mapping[str, Any]) -> str:
    status, reason = record["status"], record.get("reason")
    attrs: dict[str, Any] = {key: record[key] for key in ("steps", "runtime_s", "resumed_from_step")
                             if record.get(key) is not None}
    attrs.update({f"best_{k}": v for k, v in (record.get("best") or {}).items()})
    attrs.update({f"final_{k}": v for k, v in (record.get("final") or {}).items()})
    if status == "interrupted":
        for key, value in attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)
        release(storage, trial_id)
        log.info("trial %d of %s stopped at step %s: waiting again", task.trial_number, task.study_name,
                 record.get("steps"))
        return status
    value: float | None = None
    if status == "completed":
        value = info.objective.value(record)
        if value is None:
            status, reason = "failed", (f"the run reported no {info.objective.metric!r} (it reported "
                                        f"{sorted(record.get(info.objective.reduce) or {})}): check eval.metrics")
    elif status == "diverged":
        value = info.objective.diverged_value(record)
    elif status not in ("failed", "pruned"):
        status, reason = "failed", f"unknown run status {status!r}"
    attrs["status"] = status
    if reason:
        attrs["reason"] = reason[-REASON_LIMIT:]
    for key, item in attrs.items():
        storage.set_trial_user_attr(trial_id, key, item)
    state = {"failed": TrialState.FAIL, "pruned": TrialState.PRUNED}.get(status, TrialState.COMPLETE)
    _tell(storage, study_id, trial_id, task, info, state, value)
    log.info("trial %d of %s: %s%s", task.trial_number, task.study_name, status,
             f" ({info.objective.name} = {value:.6g})" if value is not None else f": {(reason or '').strip()[-300:]}")
    return status


def _tell(storage: optuna.storages.BaseStorage, study_id: int, trial_id: int, task: TrialTask, info: StudyInfo,
          state: TrialState, value: float | None) -> None:
    values = None if value is None else [value]
    if info.sampler.adaptive:  # the sampler may learn from the result (Study.tell calls its after_trial)
        study = optuna.load_study(study_name=task.study_name, storage=storage, sampler=info.sampler.build())
        study.tell(task.trial_number, values, state=state)
    else:
        finish(storage, trial_id, state, values)
