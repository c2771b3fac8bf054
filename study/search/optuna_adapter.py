"""Every use of Optuna beyond its documented `Study` API, in one place, each pinned by a test.

gan-sweep treats a study as a queue: trials are created WAITING with their values, workers claim them
(WAITING -> RUNNING), a dead worker's trial is given back (RUNNING -> WAITING), and an adaptive sampler's
proposals are created as new WAITING trials rather than handed out by `Study.ask` (which would return a
queued one). That needs the storage API below `Study` and a few private attributes; they are reached only
through this module, and `tests/search/test_optuna_adapter.py` holds one test per behaviour relied on, so an
Optuna upgrade that changes one fails that test and nothing else. Supported versions: pyproject.toml
(docs/cluster.md, "Optuna versions").
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterable

import optuna
from optuna.distributions import BaseDistribution
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState


def storage_of(study: optuna.Study) -> BaseStorage:
    return study._storage


def study_id_of(study: optuna.Study) -> int:
    return study._study_id


def trials_of(study: optuna.Study, states: Iterable[TrialState] | None = None) -> list[FrozenTrial]:
    """The study's trials as stored, without copies (read-only use)."""
    states = tuple(states) if states is not None else None
    return storage_of(study).get_all_trials(study_id_of(study), deepcopy=False, states=states or None)


def trial_id(study: optuna.Study, number: int) -> int:
    return storage_of(study).get_trial_id_from_study_id_trial_number(study_id_of(study), number)


def trial_of(study: optuna.Study, number: int) -> FrozenTrial:
    return storage_of(study).get_trial(trial_id(study, number))


def waiting_template(params: dict[str, Any], distributions: dict[str, BaseDistribution],
                     user_attrs: dict[str, Any]) -> FrozenTrial:
    """What `add_waiting_trial` creates: a WAITING trial with its parameters already set."""
    return FrozenTrial(number=0, state=TrialState.WAITING, value=None, datetime_start=None, datetime_complete=None,
                       params=params, distributions=distributions, user_attrs=user_attrs, system_attrs={},
                       intermediate_values={}, trial_id=0)


def add_waiting_trial(study: optuna.Study, template: FrozenTrial) -> int:
    """Create a trial from a template in one storage call; returns its number."""
    storage = storage_of(study)
    return storage.get_trial(storage.create_new_trial(study_id_of(study), template_trial=template)).number


def claim(storage: BaseStorage, trial_id_: int) -> bool:
    """WAITING -> RUNNING, atomically: True for exactly one of several concurrent callers; False when the trial
    is already RUNNING or finished."""
    try:
        return storage.set_trial_state_values(trial_id_, TrialState.RUNNING)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False


def set_waiting(storage: BaseStorage, trial_id_: int) -> None:
    """RUNNING (or a just-created trial) -> WAITING: the trial is queued again and any worker may claim it."""
    storage.set_trial_state_values(trial_id_, TrialState.WAITING)


def finish(storage: BaseStorage, trial_id_: int, state: TrialState, values: list[float] | None = None) -> None:
    """RUNNING -> COMPLETE / FAIL with the objective value, without going through a sampler."""
    storage.set_trial_state_values(trial_id_, state, values)


def propose_waiting_trial(study: optuna.Study, sampler: optuna.samplers.BaseSampler,
                          suggest: Any) -> tuple[optuna.Trial, Any]:
    """A new trial whose values `suggest(trial)` draws from `sampler`, left RUNNING for the caller to finish
    describing and to `set_waiting`.

    Not `Study.ask()`: it hands out a WAITING trial (one queued for a worker) instead of creating one. A fresh
    `Study` object lets the sampler see every trial finished so far (its trial cache starts empty).
    """
    storage = storage_of(study)
    view = optuna.Study(study_name=study.study_name, storage=storage, sampler=sampler)
    trial = optuna.Trial(view, storage.create_new_trial(study_id_of(study)))
    return trial, suggest(trial)


def trial_id_of(trial: optuna.Trial) -> int:
    return trial._trial_id


def rdb_trials(storage: optuna.storages.RDBStorage, study_id: int) -> list[FrozenTrial]:
    """The study's trials from three plain queries on Optuna's RDB tables (trials, trial_values,
    trial_user_attributes): state, value, times and user attributes, no parameters.

    Optuna's own reader builds some 30 ORM objects per trial (10,000 trials: 13.7 s, vs 1.5 s here). Raises
    sqlalchemy's errors, KeyError or AttributeError when the schema is not as expected.
    """
    import sqlalchemy as sa

    meta = sa.MetaData()
    meta.reflect(bind=storage.engine, only=["trials", "trial_values", "trial_user_attributes"])
    trials, values, attrs = (meta.tables[name] for name in ("trials", "trial_values", "trial_user_attributes"))
    mine = sa.select(trials.c.trial_id).where(trials.c.study_id == study_id)
    with storage.engine.connect() as connection:
        rows = connection.execute(sa.select(trials.c.trial_id, trials.c.number, trials.c.state,
                                            trials.c.datetime_start, trials.c.datetime_complete)
                                  .where(trials.c.study_id == study_id).order_by(trials.c.number)).all()
        value_rows = connection.execute(sa.select(values.c.trial_id, values.c.value, values.c.value_type)
                                        .where(values.c.trial_id.in_(mine), values.c.objective == 0)).all()
        attr_rows = connection.execute(sa.select(attrs.c.trial_id, attrs.c.key, attrs.c.value_json)
                                       .where(attrs.c.trial_id.in_(mine))).all()
    special = {"INF_POS": math.inf, "INF_NEG": -math.inf}
    value_of = {r.trial_id: special.get(str(getattr(r.value_type, "name", r.value_type)), r.value) for r in value_rows}
    user_attrs: dict[int, dict[str, Any]] = {}
    decoded = json.loads("[" + ",".join(r.value_json for r in attr_rows) + "]")  # one parse, not one per value
    for r, value in zip(attr_rows, decoded):
        user_attrs.setdefault(r.trial_id, {})[r.key] = value
    return [FrozenTrial(number=r.number, state=TrialState[str(getattr(r.state, "name", r.state))],
                        value=value_of.get(r.trial_id), datetime_start=r.datetime_start,
                        datetime_complete=r.datetime_complete, params={}, distributions={},
                        user_attrs=user_attrs.get(r.trial_id, {}), system_attrs={}, intermediate_values={},
                        trial_id=r.trial_id) for r in rows]


def journal_storage(path: str) -> optuna.storages.JournalStorage:
    """A journal file storage (Optuna >= 4.0: `JournalFileBackend`)."""
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(path))
