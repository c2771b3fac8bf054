"""Every config composes and validates; every bad input is rejected with field, value and what is allowed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import MissingConfigException

from gan_study.study.config import ConfigError, validate
from tests.conftest import compose

MODELS = ["mm_gan", "ns_gan", "wgan", "wgan_gp", "lsgan", "dragan", "began", "vae"]
DATASETS = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32),
            "celeba": (3, 64, 64), "triangles": (1, 28, 28)}
# The paper's budgets (docs/protocol.md#data-sets-and-budgets): D steps and evaluated checkpoints per data set.
PAPER_STEPS = {"mnist": 15625, "fashion_mnist": 15625, "triangles": 15625, "cifar10": 78125, "celeba": 101250}
PAPER_EVALS = {"mnist": [3906, 7812, 11718, 15624, 15625], "cifar10": [3906 * k for k in range(1, 21)] + [78125],
               "celeba": [12656 * k for k in range(1, 9)] + [101250]}
# Sample #0 of docs/protocol.md#defaults.
DEFAULTS = {"ns_gan": (5e-5, 0.0, 1, True), "mm_gan": (5e-5, 0.0, 1, True), "lsgan": (2e-4, 0.5, 1, True),
            "wgan": (5e-5, 0.5, 5, True), "wgan_gp": (1e-4, 0.5, 5, False), "dragan": (1e-4, 0.5, 1, True),
            "began": (1e-4, 0.5, 5, False), "vae": (5e-5, 0.5, 1, True)}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_every_model_and_dataset_composes_with_the_paper_defaults(model, dataset):
    run = validate(compose([f"model={model}", f"dataset={dataset}", "eval=none"]))
    assert (run.model.lr, run.model.beta1, run.model.n_disc, run.model.discriminator_batchnorm) == DEFAULTS[model]
    assert run.model.beta2 == 0.999 and run.train.batch_size == 64 and run.train.z_dim == 64
    assert run.dataset.image_shape == DATASETS[dataset]
    assert run.total_steps == PAPER_STEPS[dataset]
    if dataset in PAPER_EVALS:
        assert run.eval_steps == PAPER_EVALS[dataset]


def test_loss_specific_defaults_are_the_papers():
    assert validate(compose(["model=wgan", "eval=none"])).model.loss_params == {"clip": 0.01}
    assert validate(compose(["model=wgan_gp", "eval=none"])).model.loss_params == {"penalty_weight": 10.0}
    began = validate(compose(["model=began", "eval=none"])).model.loss_params
    assert began == {"k_lr": 1e-3, "gamma": 0.75, "clip_k": False}


@pytest.mark.parametrize("override, field, value", [
    ("model.lr=-0.001", "model.lr", "-0.001"),
    ("model.lr=0", "model.lr", "0"),
    ("model.beta1=1.5", "model.beta1", "1.5"),
    ("model.beta1=-0.1", "model.beta1", "-0.1"),
    ("model.n_disc=0", "model.n_disc", "0"),
    ("train.batch_size=0", "train.batch_size", "0"),
    ("model.generator_activation=tanh", "model.generator_activation", "tanh"),
    ("dataset.image_shape=[3,28,28]", "dataset.image_shape", "[3, 28, 28]"),
    ("device=tpu", "device", "tpu"),
])
def test_bad_values_name_field_value_and_what_is_allowed(override, field, value):
    with pytest.raises(ConfigError) as error:
        validate(compose(["eval=none", override]))
    message = str(error.value)
    assert field in message and value in message and "allowed" in message


def test_bad_loss_hyperparameter_is_rejected_with_its_name():
    with pytest.raises(ConfigError, match="clip"):
        validate(compose(["model=wgan", "eval=none", "model.loss_params.clip=-1"]))


def test_unknown_metric_is_rejected_with_the_allowed_list():
    with pytest.raises(ConfigError, match=r"eval\.metrics.*'no_such_metric'.*fid"):
        validate(compose(["eval=none", "+eval.metrics.no_such_metric={}"]))


def test_missing_inception_weights_stop_the_run_before_training(tmp_path, monkeypatch):
    """The paper's eval needs the FID Inception weights; without them the message says where and how to fetch."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # an empty hub cache
    with pytest.raises(ConfigError) as error:
        validate(compose(["eval=paper"]))
    message = str(error.value)
    assert message.startswith("eval.metrics.fid:") and "pt_inception-2015-12-05-6726825d.pth" in message
    assert "gan-prefetch weights=inception" in message


def test_unknown_model_and_dataset_names_list_the_available_options():
    with pytest.raises(MissingConfigException) as error:
        compose(["model=no_such_gan"])
    assert "no_such_gan" in str(error.value) and "wgan_gp" in str(error.value)
    with pytest.raises(MissingConfigException) as error:
        compose(["dataset=imagenet"])
    assert "imagenet" in str(error.value) and "triangles" in str(error.value)


def test_a_bad_config_on_the_command_line_spends_no_compute(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "gan_study.study.cli.train", "model.lr=-1", "eval=none",
                           f"run_dir={run_dir}", f"data_root={tmp_path / 'data'}"],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert proc.returncode == 2
    assert "model.lr = -1" in proc.stderr and "positive" in proc.stderr
    assert not (run_dir / "checkpoint.pt").exists() and not (tmp_path / "data").exists()
