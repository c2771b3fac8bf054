"""The paper's Adam-vs-RMSProp experiment: `train.optimizer`, validated, built with TF's RMSProp defaults, and its
preset trains WGAN's wide-range samples of phase 1 under each optimiser (docs/protocol.md#experiments)."""
from __future__ import annotations

import math

import pytest
import torch

from gan_study.launch.sweep_plans import build_plans
from gan_study.study.config import ConfigError, validate
from gan_study.study.train.run import make_optimizer
from tests.conftest import compose
from tests.experiments.test_presets import sweep_config


@pytest.fixture(autouse=True)
def _paper_presets_evaluate_fid(inception_weights_present):
    """The preset evaluates FID, whose validation checks that the Inception weights file exists."""


def test_the_preset_trains_wgans_wide_samples_with_each_optimizer(tmp_path):
    wide = build_plans(*sweep_config(tmp_path / "wide", "experiment=paper_wide", "dataset=cifar10", "models=[wgan]"))
    arms = {}
    for optimizer in ("adam", "rmsprop"):
        cfg, compose_model = sweep_config(tmp_path / optimizer, "experiment=paper_optimizer", "dataset=cifar10",
                                          f"train.optimizer={optimizer}")
        (plan,) = build_plans(cfg, compose_model)
        assert plan.name == f"cifar10-wide-wgan-{optimizer}" and plan.spec.search == f"wide_{optimizer}"
        assert len(plan.trials) == 100
        first = plan.config(plan.trials[0].values, plan.trials[0].seed)
        assert first["train"]["optimizer"] == optimizer and first["model"]["name"] == "wgan"
        arms[optimizer] = [entry.values for entry in plan.trials]
    assert arms["adam"] == arms["rmsprop"] == [entry.values for entry in wide[0].trials]  # the same 100 settings


def test_an_unknown_optimizer_is_named_with_what_is_allowed():
    with pytest.raises(ConfigError, match=r"train.optimizer = 'sgd' is not allowed: one of \['adam', 'rmsprop'\]"):
        validate(compose(["train=tiny", "train.optimizer=sgd"]), check_files=False)


def test_rmsprop_has_tfs_defaults_and_adam_stays_the_default():
    weight = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    adam = make_optimizer([weight], validate(compose(["train=tiny", "model=wgan"]), check_files=False),
                          torch.device("cpu"))
    assert isinstance(adam, torch.optim.Adam)
    cfg = validate(compose(["train=tiny", "model=wgan", "train.optimizer=rmsprop"]), check_files=False)
    rmsprop = make_optimizer([weight], cfg, torch.device("cpu"))
    assert isinstance(rmsprop, torch.optim.RMSprop)
    group = rmsprop.param_groups[0]
    assert (group["alpha"], group["eps"], group["momentum"], group["lr"]) == (0.9, 1e-10, 0.0, 5e-5)
    weight.grad = torch.tensor([0.3, -4.0])
    rmsprop.step()  # mean square 0.1·g², so the first step is lr·g / (sqrt(0.1)·|g|) = lr·sign(g)/sqrt(0.1)
    step = 5e-5 / math.sqrt(0.1)
    assert weight.detach().tolist() == pytest.approx([1.0 - step, -2.0 + step], rel=1e-6)
