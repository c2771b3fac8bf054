"""Divergence found without a per-step read-back: the same step and reason as a check after every step."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from gan_study.study.config import validate
from gan_study.study.train import run_training
from gan_study.study.train.checkpoint import load_checkpoint
from gan_study.study.train.divergence import DivergenceWatch
from gan_study.study.train.run_folder import RunFolder
from tests.conftest import compose
from tests.faulty_losses import register_faulty_ns_gan


# NS GAN whose D loss is +inf on its 5th call: a divergence at step 5, between two evaluations (3, 6).
register_faulty_ns_gan("test_inf_d_at_five", loss="discriminator_loss", on_call=5, add=math.inf)


def scalar(value: float) -> torch.Tensor:
    return torch.tensor(value)


def test_the_first_non_finite_step_and_key_are_named_after_one_read_back():
    watch = DivergenceWatch()
    for step in (1, 2, 3):
        watch.observe(step, {"loss_d": scalar(0.5), "loss_g": scalar(1.0)})
    assert watch.first_divergence() is None and watch.pending == []
    watch.observe(4, {"loss_d": scalar(0.5)})
    watch.observe(5, {"loss_d": scalar(0.5), "loss_g": scalar(float("-inf"))})
    watch.observe(6, {"loss_d": scalar(float("nan")), "loss_g": scalar(float("nan"))})
    assert watch.first_divergence() == (5, "loss_g is -inf at step 5")
    assert watch.pending == []


def run(data_root: Path, run_dir: Path, log_every: int):
    cfg = validate(compose(["dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}",
                            "model.name=test_inf_d_at_five", "model.loss_params={}",
                            f"train.log_every_steps={log_every}"]))
    return run_training(cfg, run_dir)


@pytest.mark.parametrize("log_every", [1, 100])
def test_a_divergence_read_back_late_is_recorded_at_its_own_step(log_every, data_root, tmp_path):
    """log_every 1 reads back after every step (the old check); 100 only at the evaluations 3 and 6."""
    record = run(data_root, tmp_path, log_every)
    assert (record.status, record.steps, record.reason) == ("diverged", 5, "loss_d is inf at step 5")
    assert record.steps_run_this_process == 5
    assert [int(row["step"]) for row in RunFolder(tmp_path).read_metrics()] == [3]
    assert sorted(path.name for path in (tmp_path / "generators").iterdir()) == ["step_0000003.pt"]
    assert load_checkpoint(tmp_path / "generators" / "step_0000003.pt", torch.device("cpu"))["step"] == 3
