"""A batched group keeps each trial its own run: a trial that diverges is recorded exactly as it would be alone
and frozen while the others go on; a stop checkpoints every trial, and each resumes alone from its checkpoint."""
from __future__ import annotations

import shutil
from pathlib import Path

import torch

from gan_study.study.config import validate
from gan_study.study.train import run_training
from gan_study.study.train.batched_run import BatchedGroup, train_group
from gan_study.study.train.checkpoint import load_checkpoint, save_checkpoint
from gan_study.study.train.run_folder import RunFolder
from tests.conftest import compose


def trial(data_root: Path, seed: int, lr: float, steps: int = 4, **overrides: object):
    """A tiny Triangles run of ns_gan: batch 8, 128 images, no metrics, no sample grid."""
    extra = [f"{key}={value}" for key, value in overrides.items()]
    return validate(compose(["dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}", "model=ns_gan",
                             f"seed={seed}", f"model.lr={lr}", "train.batch_size=8", "train.train_size=128",
                             f"train.steps={steps}", "train.eval_every_steps=2", "train.sample_grid=0",
                             "train.tensorboard=false", *extra]))


def never() -> bool:
    return False


def test_a_diverging_trial_is_recorded_as_alone_and_frozen_while_the_other_finishes(data_root, tmp_path):
    good, bad = trial(data_root, 0, 1e-4, **{"train.log_every_steps": 1}), \
        trial(data_root, 1, 3e-4, **{"train.log_every_steps": 1})
    stopped = run_training(bad, tmp_path / "bad", should_stop=lambda: RunFolder(tmp_path / "bad").checkpoint.exists())
    assert stopped.status == "interrupted" and stopped.steps == 2
    checkpoint = RunFolder(tmp_path / "bad").checkpoint
    state = load_checkpoint(checkpoint, torch.device("cpu"))
    state["generator"] = {name: value.float() * float("nan") for name, value in state["generator"].items()}
    save_checkpoint(checkpoint, state)  # G draws NaN images from step 3 on
    shutil.copytree(tmp_path / "bad", tmp_path / "bad_alone")

    alone = run_training(bad, tmp_path / "bad_alone")
    group = BatchedGroup([good, bad], [RunFolder(tmp_path / "good"), RunFolder(tmp_path / "bad")])
    finished, diverged = group.train([never, never], [None, None])

    assert alone.status == diverged.status == "diverged"
    assert (diverged.steps, diverged.reason, diverged.resumed_from_step) == \
        (alone.steps, alone.reason, alone.resumed_from_step) == (3, "loss_d is nan at step 3", 2)
    assert diverged.steps_run_this_process == alone.steps_run_this_process == 1
    assert RunFolder(tmp_path / "bad").read_metrics() == RunFolder(tmp_path / "bad_alone").read_metrics()
    assert finished.status == "completed" and finished.steps == 4
    assert [int(row["step"]) for row in RunFolder(tmp_path / "good").read_metrics()] == [2, 4]
    assert group.group.trial_steps == [4, 3]  # frozen at its divergence while the other went on


def test_a_stop_checkpoints_every_trial_and_each_resumes_alone_from_it(data_root, tmp_path):
    configs = [trial(data_root, 0, 1e-4), trial(data_root, 1, 3e-4)]
    runs = [tmp_path / "0", tmp_path / "1"]
    evaluated: list[int] = []
    stop = lambda: len(evaluated) == 2  # noqa: E731 - both trials evaluated (and checkpointed) at step 2
    records = train_group([cfg.to_dict() for cfg in configs], runs, should_stop=[stop, stop],
                          on_evaluation=[lambda row: evaluated.append(row["step"])] * 2)
    assert [(r.status, r.steps) for r in records] == [("interrupted", 2)] * 2
    for cfg, run in zip(configs, runs):
        assert load_checkpoint(RunFolder(run).checkpoint, torch.device("cpu"))["step"] == 2
        record = run_training(cfg, run)  # launcher.batch off: the trial alone goes on from the group's checkpoint
        assert (record.status, record.steps, record.resumed_from_step, record.steps_run_this_process) == \
            ("completed", 4, 2, 2)
        assert [int(row["step"]) for row in RunFolder(run).read_metrics()] == [2, 4]


def test_a_finished_run_and_a_folder_of_another_protocol_end_at_once_and_the_rest_trains(data_root, tmp_path):
    done, other, fresh = trial(data_root, 0, 1e-4, steps=2), trial(data_root, 0, 2e-4, steps=2), \
        trial(data_root, 1, 1e-4, steps=2)
    assert run_training(done, tmp_path / "done").status == "completed"
    shutil.copytree(tmp_path / "done", tmp_path / "taken")
    ended: list[int] = []
    records = train_group([done.to_dict(), other.to_dict(), fresh.to_dict()],
                          [tmp_path / "done", tmp_path / "taken", tmp_path / "fresh"], should_stop=[never] * 3,
                          on_evaluation=[None] * 3, on_end=[lambda r, i=i: ended.append(i) for i in range(3)])
    assert ended == [0, 1, 2]  # the first two before any step of the group
    assert records[0].status == "completed" and records[0].steps_run_this_process == 2  # its record, as it was
    assert records[1]["status"] == "failed" and "model.lr" in records[1]["reason"]  # refused, naming the key
    assert (records[2].status, records[2].steps) == ("completed", 2)
