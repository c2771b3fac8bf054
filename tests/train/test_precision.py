"""train.precision: float32 by default (the paper), bfloat16 autocast as an opt-in that really changes the step."""
from __future__ import annotations

import math

import pytest
import torch

from gan_study.study.config import ConfigError, validate
from gan_study.study.train import run_training
from gan_study.study.train.precision import step_precision
from gan_study.study.train.run_folder import RunFolder
from tests.conftest import compose


def wgan_gp_run(data_root, *overrides: str):
    """A few WGAN-GP steps on Triangles: the gradient penalty's double backward runs under the precision too."""
    return validate(compose(["model=wgan_gp", "dataset=triangles", "train=tiny", "eval=none",
                             f"data_root={data_root}", *overrides]))


def losses_d(run_dir) -> list[float]:
    return [float(row["loss_d"]) for row in RunFolder(run_dir).read_metrics()]


@pytest.mark.parametrize("precision, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_the_step_context_sets_the_dtype_of_matrix_products(precision, dtype):
    layer = torch.nn.Linear(4, 3)
    with step_precision(precision, torch.device("cpu")):
        out = layer(torch.ones(2, 4))
    assert out.dtype == dtype and layer.weight.dtype == torch.float32  # weights stay float32 either way


def test_fp32_is_the_default_and_bf16_trains_deterministically_to_other_numbers(data_root, tmp_path):
    assert wgan_gp_run(data_root).train.precision == "fp32"
    default = run_training(wgan_gp_run(data_root), tmp_path / "fp32")
    fast = run_training(wgan_gp_run(data_root, "train.precision=bf16"), tmp_path / "bf16")
    again = run_training(wgan_gp_run(data_root, "train.precision=bf16"), tmp_path / "bf16-again")
    assert default.status == fast.status == again.status == "completed"
    assert losses_d(tmp_path / "bf16") == losses_d(tmp_path / "bf16-again")
    assert all(math.isfinite(value) for value in losses_d(tmp_path / "bf16"))
    assert losses_d(tmp_path / "bf16") != losses_d(tmp_path / "fp32")


def test_an_unknown_precision_is_named_with_the_allowed_ones(data_root):
    with pytest.raises(ConfigError, match=r"train\.precision = 'fp16' is not allowed: one of \['fp32', 'bf16'\]"):
        wgan_gp_run(data_root, "train.precision=fp16")


def test_tf32_is_off_by_default_and_the_switch_sets_matmul_and_cudnn_alike(data_root, tmp_path):
    from gan_study.study.train.precision import set_tf32

    assert wgan_gp_run(data_root).train.tf32 is False
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        set_tf32(True)
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (True, True)
        run_training(wgan_gp_run(data_root, "train.tf32=false", "train.steps=1", "train.eval_every_steps=1"),
                     tmp_path)  # the run turns both off: the paper's float32, whatever torch's defaults
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (False, False)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def test_a_tf32_that_is_not_a_flag_is_named(data_root):
    with pytest.raises(ConfigError, match=r"train\.tf32 = 'fast' is not allowed.*true or false"):
        wgan_gp_run(data_root, "train.tf32=fast")
