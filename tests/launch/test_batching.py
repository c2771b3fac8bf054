"""launcher.batch: the setting checked at the edge, `auto` read from measured rates only, and the driver's groups."""
from __future__ import annotations

from collections import deque

import pytest

from gan_study.launch.batching import BATCH_RATES, TrialGrouper, batch_setting, load_rates, measured_batch
from gan_study.launch.local import LocalExecutor
from gan_study.study.config import ConfigError, validate
from gan_study.study.search.task import TrialTask
from gan_study.study.train import batched
from tests.conftest import compose


@pytest.mark.parametrize("value, expected", [("off", 1), (False, 1), (1, 1), (8, 8), ("auto", "auto")])
def test_the_setting_is_off_auto_or_a_group_size(value, expected):
    assert batch_setting(value) == expected


@pytest.mark.parametrize("value", [0, -2, True, "fast", 2.5, None])
def test_another_setting_is_refused_naming_field_value_and_what_is_allowed(value):
    with pytest.raises(ConfigError, match=rf"^launcher.batch = {value!r} is not allowed: off, auto, or an integer "
                                          r">= 1"):
        LocalExecutor.from_config({"name": "local", "batch": value, "gpus": []}, None)


def test_auto_takes_the_measured_fastest_mode_of_this_device_kind_and_off_where_nothing_was_measured(tmp_path):
    rates = tmp_path / "batch_rates.yaml"
    rates.write_text("devices:\n"
                     "  cpu:AVX2: {trials_per_hour: {processes: 100, batched: {2: 90, 4: 99}}}\n"
                     "  cpu:AVX512: {trials_per_hour: {processes: 100, batched: {2: 120, 8: 180, 4: 150}}}\n")
    assert measured_batch("cpu:AVX2", rates) == 1  # processes are faster: off
    assert measured_batch("cpu:AVX512", rates) == 8
    assert measured_batch("cuda:NVIDIA H200", rates) == 1  # never measured: off, not a guess
    assert measured_batch("cpu:AVX2", tmp_path / "absent.yaml") == 1
    rates.write_text("devices:\n  cpu:AVX2: {trials_per_hour: {processes: 100, batched: {0: 90}}}\n")
    with pytest.raises(ConfigError, match=r"batch_rates.yaml: devices.cpu:AVX2.trials_per_hour.batched = "):
        measured_batch("cpu:AVX2", rates)


def test_the_shipped_table_is_readable_and_auto_is_off_where_it_has_no_row():
    kinds = load_rates(BATCH_RATES)
    executor = LocalExecutor.from_config({"name": "local", "max_parallel": 2, "gpus": [], "batch": "auto"}, None)
    if not any(kind.startswith("cpu:") for kind in kinds):
        assert (executor.batch, executor.capacity) == (1, 2)


def task(study: str, number: int, data_root, *overrides: str) -> TrialTask:
    config = validate(compose(["dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}",
                               "model=ns_gan", *overrides]), check_files=False).to_dict()
    return TrialTask("journal:unused", study, number, f"runs/{study}/{number}", config)


def test_groups_hold_trials_of_one_study_and_one_group_key_up_to_the_size(data_root, monkeypatch, caplog):
    monkeypatch.setattr(batched, "BATCHABLE_LOSSES", ("ns_gan",))  # wgan_gp stands for a loss that cannot batch
    on, off = "model.discriminator_batchnorm=true", "model.discriminator_batchnorm=false"
    queue = deque([task("s", 0, data_root, on, "model.lr=1e-4"), task("s", 1, data_root, off),
                   task("s", 2, data_root, on, "model.lr=1e-3", "seed=3"), task("s", 3, data_root, "model=wgan_gp"),
                   task("t", 4, data_root, on), task("s", 5, data_root, on), task("s", 6, data_root, off)])
    queue.extend([task("s", 7, data_root, "model=wgan_gp", "seed=1"), task("s", 8, data_root, "train.precision=bf16"),
                  task("s", 9, data_root, "train.precision=bf16")])
    with caplog.at_level("INFO", logger="gan_study.launch"):
        groups = TrialGrouper(2).take(queue, None, lambda item: item)
    assert [[t.trial_number for t in group] for group in groups] == [[0, 2], [1, 6], [3], [4], [5], [7], [8], [9]]
    assert not queue
    said = [r.getMessage() for r in caplog.records if "one per process" in r.getMessage()]
    assert len(said) == 2  # once per study and reason
    assert said[0].startswith("study s: trials of wgan_gp train one per process (launcher.batch): model.name = "
                              "'wgan_gp'")
    assert said[1] == ("study s: trials of ns_gan train one per process (launcher.batch): train.precision = 'bf16': "
                       "the batched step has no autocast")


def test_no_more_groups_than_free_workers_and_the_rest_stays_queued(data_root):
    queue = deque([task("s", number, data_root, f"model.discriminator_batchnorm={number % 2 == 0}")
                   for number in range(5)])
    groups = TrialGrouper(3).take(queue, 1, lambda item: item)
    assert [[t.trial_number for t in group] for group in groups] == [[0, 2, 4]]
    assert [t.trial_number for t in queue] == [1, 3]


def test_conditional_and_rmsprop_trials_batch_and_a_bf16_one_trains_alone(data_root):
    grouper = TrialGrouper(4)
    assert grouper.key(task("s", 0, data_root, "dataset=digits", "conditional.enabled=true")) is not None
    assert grouper.key(task("s", 1, data_root, "train.optimizer=rmsprop")) is not None
    assert grouper.key(task("s", 2, data_root, "train.precision=bf16")) is None
