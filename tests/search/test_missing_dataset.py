"""A sweep whose data set is not on disk: the driver says so once before any trial is queued, and each trial
FAILs with one line naming the data set, the folder looked in and the gan-prefetch command, not a traceback."""
from __future__ import annotations

import logging

from optuna.trial import TrialState

from gan_study.launch.debug import DebugExecutor
from gan_study.launch.sweep import run_sweep
from sweep_testkit import study_of, sweep_config


def test_a_sweep_without_its_data_set_says_so_once_and_each_trial_fails_with_one_line(tmp_path, caplog):
    data_root = tmp_path / "data"
    cfg = sweep_config(f"journal:{tmp_path / 'gan.journal'}", tmp_path / "runs", "n_trials=2", "dataset=mnist",
                       f"data_root={data_root}")
    with caplog.at_level(logging.INFO):
        run_sweep(cfg, executor=DebugExecutor())  # the real trainer, in this process
    reason = (f"data set 'mnist' not found in {data_root / 'MNIST' / 'raw'}: get it with "
              f"`gan-prefetch datasets=[mnist]` on a machine with internet access, or run with dataset.download=true")
    trials = study_of(cfg).get_trials()
    assert [(t.state, t.user_attrs["reason"]) for t in trials] == [(TrialState.FAIL, reason)] * 2
    messages = [record.getMessage() for record in caplog.records]
    said = [i for i, message in enumerate(messages) if "gan-prefetch datasets=[mnist]" in message and
            caplog.records[i].levelno == logging.WARNING and "every trial" in message]
    first_trial = next(i for i, message in enumerate(messages) if message.startswith("trial 0 of"))
    assert len(said) == 1 and said[0] < first_trial
