"""A study in its storage: created once, its trial list added once, each trial run by one worker at a time.

The storage is the source of truth. The study carries its definition (`StudySpec`) as a user attribute,
so re-opening it with different settings is an error instead of a silent mix. Every trial of the list is
created up front as WAITING with its parameters; a worker *claims* a trial by moving it WAITING → RUNNING
(atomic in every storage: a row lock in RDB, the log order in a journal), so two workers never run the
same trial. A RUNNING trial whose worker is gone (its process is dead, or its heartbeat is older than the
grace period; `liveness`) is put back to WAITING under the study lock and re-run from its checkpoint.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import FrozenTrial, TrialState

from gan_study.study.config import ConfigError
from gan_study.study.protocol_keys import changed_leaves
from gan_study.study.search.liveness import dead_reason
from gan_study.study.search.objective import Objective
from gan_study.study.search.optuna_adapter import (add_waiting_trial, finish, propose_waiting_trial, set_waiting,
                                                   trial_id, trial_id_of, trials_of, waiting_template)
from gan_study.study.search.samplers import SamplerSpec
from gan_study.study.search.space import SearchSpace
from gan_study.study.search.storage import open_storage, study_lock
from gan_study.study.search.trial_list import PlannedTrial

log = logging.getLogger("gan_study.search")

STUDY_ATTR = "gan_study"
FORMAT = 1
SEEDS_SEARCH = "seeds"


@dataclass(frozen=True)
class StudySpec:
    """Everything that makes a study what it is; re-opening it with a different spec is refused."""

    name: str
    model: str
    dataset: str
    search: str
    space: SearchSpace
    objective: Objective
    sampler: SamplerSpec
    include_defaults: bool
    protocol: dict[str, Any] = field(hash=False)
    """The training config shared by every trial, less the settings that cannot change a result."""
    source: dict[str, Any] | None = field(default=None, hash=False)
    """Seed studies: the study and trial the configuration was selected from."""

    def identity(self) -> dict[str, Any]:
        """The spec as JSON data (tuples become lists), as stored and as compared."""
        return json.loads(json.dumps({
            "format": FORMAT, "model": self.model, "dataset": self.dataset, "search": self.search,
            "space": self.space.to_dict(), "objective": self.objective.to_dict(), "sampler": self.sampler.to_dict(),
            "include_defaults": self.include_defaults, "protocol": self.protocol, "source": self.source}))


@dataclass(frozen=True)
class StudyInfo:
    """What a worker needs to know about a study, read back from its storage."""

    objective: Objective
    sampler: SamplerSpec
    heartbeat_s: float

    @classmethod
    def read(cls, storage: optuna.storages.BaseStorage, study_id: int) -> StudyInfo:
        attrs = storage.get_study_user_attrs(study_id)
        if STUDY_ATTR not in attrs:
            name = storage.get_study_name_from_id(study_id)
            raise ValueError(f"study {name!r} was not created by gan-sweep (no {STUDY_ATTR!r} attribute)")
        spec = attrs[STUDY_ATTR]
        return cls(Objective.stored(spec["objective"]), SamplerSpec(**spec["sampler"]), float(attrs.get("heartbeat_s", 60)))


class StudyMismatch(ConfigError):
    """The study exists with another definition: a different study name is needed, or the stored settings."""


def differences(stored: Any, wanted: Any) -> list[str]:
    """'path: stored X, requested Y' for every leaf where two JSON-like trees differ."""
    return [f"{key}: stored {old!r}, requested {new!r}" for key, old, new in changed_leaves(stored, wanted)]


def create_or_open(url: str, spec: StudySpec, heartbeat_s: float = 60.0) -> optuna.Study:
    """The study named `spec.name`, created with `spec` if new; refused if it exists with another spec."""
    storage = open_storage(url)
    with study_lock(url, spec.name):
        study = optuna.create_study(storage=storage, study_name=spec.name, direction=spec.objective.direction,
                                    sampler=spec.sampler.build(), load_if_exists=True)
        stored = study.user_attrs.get(STUDY_ATTR)
        if stored is None:
            study.set_user_attr(STUDY_ATTR, spec.identity())
        else:
            stored = {**stored, "objective": Objective.stored(stored["objective"]).to_dict()}
            changed = differences(stored, spec.identity())
            if changed:
                raise StudyMismatch(f"study {spec.name!r} already exists in {url} with other settings:\n  "
                                    + "\n  ".join(changed[:20])
                                    + "\nRe-run with the stored settings, or name a new study (study_name=...).")
        if study.user_attrs.get("heartbeat_s") != heartbeat_s:
            study.set_user_attr("heartbeat_s", heartbeat_s)
    return study


def load_study(url: str, name: str) -> optuna.Study:
    try:
        return optuna.load_study(study_name=name, storage=open_storage(url))
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(open_storage(url))]
        raise ConfigError(f"study {name!r} is not in {url}; it holds {names}") from None


# -- the trial list ---------------------------------------------------------------------------------


CREATION_ATTRS = ("model", "dataset", "search", "seed", "list_index", "is_default", "default_outside_space",
                  "outside_space", "hyperparameters", "run_dir")


def trial_attrs(spec: StudySpec, planned: PlannedTrial, runs_root: Path) -> dict[str, Any]:
    """The user attributes a trial is created with (Contract 5). Its run folder is named by its list entry,
    so a retried entry resumes in the same folder."""
    return {"model": spec.model, "dataset": spec.dataset, "search": spec.search, "seed": planned.seed,
            "list_index": planned.index, "is_default": planned.is_default,
            "default_outside_space": bool(planned.outside_space), "outside_space": list(planned.outside_space),
            "hyperparameters": dict(planned.values), "run_dir": str(runs_root / spec.name / str(planned.index))}


def waiting_trial(spec: StudySpec, planned: PlannedTrial, runs_root: Path) -> FrozenTrial:
    """The WAITING trial of one list entry, its searched values recorded as Optuna parameters.

    A default outside its range is still recorded (under a range widened to hold it) where Optuna allows;
    a category outside the choices is kept only in the `hyperparameters` attribute.
    """
    params, distributions = {}, {}
    for param in spec.space.searched:
        value = planned.values[param.name]
        distribution = param.distribution()
        if not param.contains(value):
            if param.kind != "float" or not isinstance(value, (int, float)) or (param.log and value <= 0):
                continue
            distribution = FloatDistribution(min(param.low, value), max(param.high, value), log=param.log)
        params[param.name], distributions[param.name] = value, distribution
    return waiting_template(params, distributions, trial_attrs(spec, planned, runs_root))


def ensure_trials(url: str, study: optuna.Study, spec: StudySpec, planned: Iterable[PlannedTrial],
                  runs_root: Path) -> int:
    """Create the list entries the study does not hold yet (under the study lock); returns how many."""
    created = 0
    with study_lock(url, spec.name):
        have = {t.user_attrs.get("list_index") for t in trials_of(study)}
        for entry in planned:
            if entry.index not in have:
                add_waiting_trial(study, waiting_trial(spec, entry, runs_root))
                created += 1
    if created:
        log.info("study %s: added %d trial(s) to the list", spec.name, created)
    return created


def ask_trial(url: str, study: optuna.Study, spec: StudySpec, n_trials: int, runs_root: Path) -> int | None:
    """Adaptive samplers: one new trial from the sampler, left WAITING for a worker; returns its number, or
    None once the study holds `n_trials` (counted under the lock, so concurrent drivers never exceed it)."""
    storage = open_storage(url)
    with study_lock(url, spec.name):
        index = len(trials_of(study))
        if index >= n_trials:
            return None
        trial, values = propose_waiting_trial(study, study.sampler, lambda trial: {
            p.name: p.suggest(trial) if p.searched else p.value for p in spec.space.params})
        planned = PlannedTrial(index, values, int(spec.protocol.get("seed", 0)))
        for key, value in trial_attrs(spec, planned, runs_root).items():
            storage.set_trial_user_attr(trial_id_of(trial), key, value)
        set_waiting(storage, trial_id_of(trial))
    return trial.number


def retry_failed(url: str, study: optuna.Study, spec: StudySpec) -> list[int]:
    """A new WAITING trial for each list entry whose only attempts FAILed; it resumes in the same run folder."""
    numbers = []
    with study_lock(url, spec.name):
        trials = trials_of(study)
        by_index: dict[Any, list[FrozenTrial]] = {}
        for trial in trials:
            by_index.setdefault(trial.user_attrs.get("list_index"), []).append(trial)
        for index, attempts in by_index.items():
            if index is None or any(t.state != TrialState.FAIL for t in attempts):
                continue
            last = max(attempts, key=lambda t: t.number)
            attrs = {key: last.user_attrs[key] for key in CREATION_ATTRS if key in last.user_attrs}
            attrs["retry_of"] = last.number
            numbers.append(add_waiting_trial(study, waiting_template(last.params, last.distributions, attrs)))
    if numbers:
        log.info("study %s: retrying failed list entries as trial(s) %s", spec.name, numbers)
    return numbers


def trial_status(trial: FrozenTrial) -> str:
    """Contract 6's status: completed / diverged (finished runs), pruned, failed, running, waiting."""
    if trial.state == TrialState.COMPLETE:
        return trial.user_attrs.get("status", "completed")
    if trial.state == TrialState.PRUNED:
        return "pruned"
    if trial.state == TrialState.FAIL:
        return "failed"
    return "running" if trial.state == TrialState.RUNNING else "waiting"


def requeue(url: str, study: optuna.Study, number: int, reason: str, *, grace_s: float | None = None,
            job_id: str | None = None, max_requeues: int | None = None) -> str:
    """Put a dead worker's RUNNING trial back to WAITING (or FAIL it after `max_requeues`).

    Re-checked under the study lock, so two drivers never requeue a trial a new worker has just claimed:
    requeue only if the worker is dead (`grace_s` given) or the trial still belongs to `job_id`.
    Returns 'requeued', 'failed' or 'skipped'.
    """
    storage = open_storage(url)
    with study_lock(url, study.study_name):
        id_ = trial_id(study, number)
        trial = storage.get_trial(id_)
        if trial.state != TrialState.RUNNING:
            return "skipped"
        if job_id is not None and trial.user_attrs.get("job_id") != job_id:
            return "skipped"
        if grace_s is not None and dead_reason(trial, grace_s) is None:
            return "skipped"
        requeues = int(trial.user_attrs.get("requeues", 0)) + 1
        storage.set_trial_user_attr(id_, "requeue_reason", reason)
        if max_requeues is not None and requeues > max_requeues:
            storage.set_trial_user_attr(id_, "status", "failed")
            storage.set_trial_user_attr(id_, "reason", f"lost {requeues} times; last: {reason}")
            finish(storage, id_, TrialState.FAIL)
            log.error("trial %d of %s: lost %d times (%s): marked FAIL", number, study.study_name, requeues, reason)
            return "failed"
        storage.set_trial_user_attr(id_, "requeues", requeues)
        storage.set_trial_user_attr(id_, "worker", None)
        storage.set_trial_user_attr(id_, "heartbeat", None)
        set_waiting(storage, id_)
    log.warning("trial %d of %s: %s; requeued (it resumes from its checkpoint)", number, study.study_name, reason)
    return "requeued"


def release(storage: optuna.storages.BaseStorage, id_: int) -> None:
    """The owner gives its trial back (stopped before the end): WAITING again, resumable by anyone."""
    storage.set_trial_user_attr(id_, "worker", None)
    storage.set_trial_user_attr(id_, "heartbeat", None)
    set_waiting(storage, id_)
