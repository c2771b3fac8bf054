"""One test per Optuna behaviour gan-sweep relies on beyond the documented Study API (the adapter module).

Run on every storage kind (journal, SQLite, PostgreSQL). An Optuna upgrade that changes one of these
behaviours fails the test named for it; pyproject.toml's Optuna bounds are the versions these pass on.
"""
from __future__ import annotations

import math
import uuid

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState

from gan_study.study.search import optuna_adapter as adapter
from gan_study.study.search.storage import _create_storage, open_storage
from sweep_testkit import storage_url  # noqa: F401 - the fixture: each storage kind for real

LR = FloatDistribution(1e-5, 1e-2, log=True)
N_DISC = IntDistribution(1, 5)


@pytest.fixture
def study(storage_url) -> optuna.Study:  # noqa: F811 - the fixture above
    return optuna.create_study(storage=open_storage(storage_url), study_name=f"adapter-{uuid.uuid4().hex[:8]}")


def other_worker(storage_url: str) -> optuna.storages.BaseStorage:
    """The storage as another worker process sees it: its own storage object on the same URL."""
    return _create_storage(storage_url)


def waiting(study: optuna.Study, lr: float = 1e-3, **attrs) -> int:
    return adapter.add_waiting_trial(study, adapter.waiting_template({"lr": lr, "n_disc": 2},
                                                                     {"lr": LR, "n_disc": N_DISC}, attrs))


def test_storage_and_study_id_name_the_study(study):
    storage = adapter.storage_of(study)
    assert isinstance(storage, optuna.storages.BaseStorage)
    assert storage.get_study_name_from_id(adapter.study_id_of(study)) == study.study_name


def test_a_waiting_trial_is_created_with_its_values_and_attributes(study):
    numbers = [waiting(study, lr=1e-4, list_index=0), waiting(study, lr=2e-4, list_index=1)]
    assert numbers == [0, 1]
    trial = adapter.trial_of(study, 1)
    assert trial.state == TrialState.WAITING and trial.number == 1
    assert trial.params == {"lr": 2e-4, "n_disc": 2} and trial.distributions == {"lr": LR, "n_disc": N_DISC}
    assert trial.user_attrs == {"list_index": 1}
    assert [t.number for t in adapter.trials_of(study, [TrialState.WAITING])] == [0, 1]
    assert adapter.trials_of(study, [TrialState.RUNNING]) == []
    assert [t.number for t in adapter.trials_of(study)] == [0, 1]  # no states: every trial


def test_claim_moves_waiting_to_running_exactly_once(study, storage_url):  # noqa: F811
    id_ = adapter.trial_id(study, waiting(study))
    storage = adapter.storage_of(study)
    assert adapter.claim(storage, id_) is True
    assert storage.get_trial(id_).state == TrialState.RUNNING and storage.get_trial(id_).datetime_start is not None
    assert adapter.claim(other_worker(storage_url), id_) is False  # a second worker backs off


def test_claim_of_a_finished_trial_is_refused_not_raised(study):
    storage = adapter.storage_of(study)
    id_ = adapter.trial_id(study, waiting(study))
    adapter.claim(storage, id_)
    adapter.finish(storage, id_, TrialState.COMPLETE, [1.5])
    assert adapter.claim(storage, id_) is False
    assert storage.get_trial(id_).state == TrialState.COMPLETE


def test_a_running_trial_can_be_given_back_and_claimed_again(study):
    storage = adapter.storage_of(study)
    id_ = adapter.trial_id(study, waiting(study, worker="a"))
    adapter.claim(storage, id_)
    adapter.set_waiting(storage, id_)  # RUNNING -> WAITING: not a move Optuna itself makes
    trial = storage.get_trial(id_)
    assert trial.state == TrialState.WAITING and trial.params == {"lr": 1e-3, "n_disc": 2}
    assert trial.user_attrs == {"worker": "a"}
    assert adapter.claim(storage, id_) is True


def test_finish_records_the_value_or_a_failure(study):
    storage = adapter.storage_of(study)
    done, failed, lost = (adapter.trial_id(study, waiting(study)) for _ in range(3))
    for id_ in (done, failed, lost):
        adapter.claim(storage, id_)
    adapter.finish(storage, done, TrialState.COMPLETE, [0.25])
    adapter.finish(storage, failed, TrialState.FAIL)
    adapter.finish(storage, lost, TrialState.COMPLETE, [math.inf])  # a diverged run's worst value
    assert storage.get_trial(done).value == 0.25 and storage.get_trial(done).datetime_complete is not None
    assert storage.get_trial(failed).state == TrialState.FAIL and storage.get_trial(failed).values is None
    assert storage.get_trial(lost).value == math.inf


class CountingSampler(optuna.samplers.RandomSampler):
    """Records how many finished trials the sampler saw when it was asked."""

    def __init__(self, seed: int):
        super().__init__(seed=seed)
        self.seen: list[int] = []

    def sample_independent(self, study, trial, param_name, param_distribution):
        self.seen.append(len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))))
        return super().sample_independent(study, trial, param_name, param_distribution)


def test_a_proposal_is_a_new_trial_and_its_sampler_sees_the_finished_ones(study):
    storage = adapter.storage_of(study)
    finished = adapter.trial_id(study, waiting(study))
    adapter.claim(storage, finished)
    adapter.finish(storage, finished, TrialState.COMPLETE, [3.0])
    queued = waiting(study, list_index=1)  # Study.ask() would hand out this one
    sampler = CountingSampler(seed=7)
    trial, values = adapter.propose_waiting_trial(study, sampler, lambda t: {"lr": t.suggest_float("lr", 1e-5, 1e-2,
                                                                                                    log=True)})
    assert trial.number == 2 and trial.number != queued
    assert sampler.seen == [1]
    assert 1e-5 <= values["lr"] <= 1e-2
    id_ = adapter.trial_id_of(trial)
    assert id_ == adapter.trial_id(study, 2)
    adapter.set_waiting(storage, id_)
    proposed = storage.get_trial(id_)
    assert proposed.state == TrialState.WAITING and proposed.params == {"lr": values["lr"]}
    assert adapter.trial_of(study, queued).state == TrialState.WAITING  # the queued trial was not touched


@pytest.mark.parametrize("storage_url", ["sqlite", "postgres"], indirect=True)  # the plain read is SQL's
def test_the_plain_rdb_read_equals_optunas_reader(storage_url):  # noqa: F811
    storage = open_storage(storage_url)
    assert isinstance(storage, optuna.storages.RDBStorage)
    study = optuna.create_study(storage=storage, study_name=f"adapter-{uuid.uuid4().hex[:8]}")
    values = [0.5, math.inf, -math.inf, None]
    for value in values:
        id_ = adapter.trial_id(study, waiting(study, run_dir="/runs/x", best={"fid": 1.0}))
        adapter.claim(storage, id_)
        adapter.finish(storage, id_, TrialState.FAIL if value is None else TrialState.COMPLETE,
                       None if value is None else [value])
    waiting(study, list_index=4)
    plain = adapter.rdb_trials(storage, adapter.study_id_of(study))
    public = storage.get_all_trials(adapter.study_id_of(study))
    assert [(t.number, t.state, t.value, t.user_attrs, t.datetime_start, t.datetime_complete) for t in plain] == \
           [(t.number, t.state, t.value, t.user_attrs, t.datetime_start, t.datetime_complete) for t in public]


def test_a_journal_file_storage_is_created_at_its_path(tmp_path):
    path = tmp_path / "studies" / "gan.journal"
    path.parent.mkdir()
    storage = adapter.journal_storage(str(path))
    optuna.create_study(storage=storage, study_name="journal").enqueue_trial({"lr": 1e-3})
    assert path.stat().st_size > 0
    again = adapter.journal_storage(str(path))  # a second process reads the same log
    assert [s.study_name for s in optuna.get_all_study_summaries(again)] == ["journal"]
