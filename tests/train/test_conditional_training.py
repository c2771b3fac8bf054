"""Class-conditional training runs on small labelled MNIST files (CPU): every loss, determinism, exact resume,
the class-per-row sample grid, the evaluation context, and the config checks of `conditional`."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gan_study.models import ConditionalGenerator, Networks, get_loss, register_loss
from gan_study.study.config import ConfigError, validate
from gan_study.study.train import run_training
from gan_study.study.train.checkpoint import load_checkpoint
from gan_study.study.train.run import TrainingRun, make_prior
from gan_study.study.train.run_folder import RunFolder
from tests.conftest import compose
from tests.labelled_data import write_labelled_mnist

MODELS = ["mm_gan", "ns_gan", "wgan", "wgan_gp", "lsgan", "dragan", "began", "vae"]
K = 10


@pytest.fixture(scope="module")
def labelled_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("labelled")
    write_labelled_mnist(root, train_count=200, test_count=50)
    return root


def conditional(root: Path, *overrides: str):
    return validate(compose(["dataset=mnist", "train=tiny", "eval=none", f"data_root={root}",
                             "conditional.enabled=true", *overrides]))


def metrics_rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open() as handle:
        return [{k: v for k, v in row.items() if k != "wall_time_s"} for row in csv.DictReader(handle)]


@pytest.mark.parametrize("model", MODELS)
def test_every_loss_trains_conditionally_and_deterministically(model, labelled_root, tmp_path):
    short = [f"model={model}", "train.steps=2", "train.eval_every_steps=1"]
    first = run_training(conditional(labelled_root, *short), tmp_path / "a")
    again = run_training(conditional(labelled_root, *short), tmp_path / "b")
    other = run_training(conditional(labelled_root, *short, "seed=1"), tmp_path / "c")
    assert first.status == again.status == other.status == "completed" and first.steps == 2
    rows = metrics_rows(tmp_path / "a")
    assert [int(row["step"]) for row in rows] == [1, 2]
    assert ("class_loss_d" in rows[0]) == (model != "vae")  # the VAE has no class head
    assert rows == metrics_rows(tmp_path / "b")
    assert rows != metrics_rows(tmp_path / "c")


@pytest.mark.parametrize("model", ["wgan_gp", "dragan", "began", "vae"])
def test_the_projection_head_trains(model, labelled_root, tmp_path):
    record = run_training(conditional(labelled_root, f"model={model}", "conditional.head=projection"), tmp_path)
    assert record.status == "completed"
    assert "class_loss_d" not in metrics_rows(tmp_path)[0]


def test_classify_fakes_adds_the_fakes_class_loss_to_d(labelled_root, tmp_path):
    plain = run_training(conditional(labelled_root, "model=ns_gan"), tmp_path / "reals")
    both = run_training(conditional(labelled_root, "model=ns_gan", "conditional.classify_fakes=true"),
                        tmp_path / "both")
    assert plain.status == both.status == "completed"
    reals, with_fakes = metrics_rows(tmp_path / "reals")[0], metrics_rows(tmp_path / "both")[0]
    # Same first step up to the D loss: both runs start from the same weights and batches; the class loss on
    # the fakes (about log 10 for an untrained head) adds to D's.
    assert float(with_fakes["class_loss_d"]) > float(reals["class_loss_d"]) + 1.0


@pytest.mark.parametrize("model", ["wgan_gp", "began"])
def test_a_resumed_conditional_run_is_bitwise_identical_to_an_uninterrupted_one(model, labelled_root, tmp_path):
    cfg = conditional(labelled_root, f"model={model}", "train.steps=8", "train.eval_every_steps=4",
                      "train.keep_checkpoint=true")
    run_training(cfg, tmp_path / "straight")
    calls = {"n": 0}

    def stop_after_five_steps() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    assert run_training(cfg, tmp_path / "resumed", should_stop=stop_after_five_steps).status == "interrupted"
    resumed = run_training(cfg, tmp_path / "resumed")
    assert resumed.status == "completed" and resumed.resumed_from_step == 5
    a, b = (load_checkpoint(tmp_path / run / "checkpoint.pt", torch.device("cpu")) for run in ("straight", "resumed"))
    for part in ("generator", "discriminator", "loss"):  # weights, and BEGAN's k inside the wrapper ("loss.k")
        assert a[part].keys() == b[part].keys()
        assert all(torch.equal(a[part][key], b[part][key]) for key in a[part]), f"{part} differs after resume"
    assert metrics_rows(tmp_path / "straight") == metrics_rows(tmp_path / "resumed")


def test_the_sample_grid_shows_class_k_in_row_k(labelled_root, tmp_path):
    cfg = conditional(labelled_root, "model=ns_gan", "train.sample_grid=20")
    run_training(cfg, tmp_path)
    state = load_checkpoint(tmp_path / "generators" / "step_0000006.pt", torch.device("cpu"))
    generator = ConditionalGenerator((1, 28, 28), 64, "lrelu", K)
    generator.load_state_dict(state["generator"])
    generator.eval()
    latents = make_prior("uniform", 64, torch.device("cpu"))(2, torch.Generator().manual_seed(cfg.eval.seed))
    # 20 images // 10 classes = 2 columns, each column one of the first two evaluation latents
    grid = np.asarray(Image.open(tmp_path / "samples" / "step_0000006.png").convert("L"))
    assert grid.shape == (2 + 10 * 30, 2 + 2 * 30)  # 28-pixel cells, 2-pixel padding
    with torch.no_grad():
        for k in range(K):
            images = generator(latents, torch.full((2,), k))
            for column in range(2):
                expected = images[column, 0].mul(255).add(0.5).clamp(0, 255).to(torch.uint8).numpy()
                cell = grid[2 + 30 * k: 30 + 30 * k, 2 + 30 * column: 30 + 30 * column]
                assert np.array_equal(cell, expected), f"row {k}, column {column}"


def test_the_evaluation_context_of_a_conditional_run(labelled_root, tmp_path):
    run = TrainingRun(conditional(labelled_root, "model=ns_gan"), RunFolder(tmp_path))
    run.nets.generator.eval()
    context = run.context()
    assert context.num_classes == K
    images, labels = context.generate_labeled(25, batch_size=10)
    assert labels.tolist() == [i % K for i in range(25)]
    latents = run.eval_latents(25)
    with torch.no_grad():
        torch.testing.assert_close(images, run.nets.generator(latents, labels), rtol=0, atol=1e-6)
        # the plain generator of FID and IS: the same classes, cycling
        torch.testing.assert_close(context.generate(25, batch_size=25), images, rtol=0, atol=1e-6)


def test_conditioning_off_records_the_config_as_before(labelled_root):
    cfg = validate(compose(["dataset=mnist", "train=tiny", "eval=none", f"data_root={labelled_root}"]))
    assert not cfg.conditional.enabled and "conditional" not in cfg.to_dict()
    assert validate(cfg.to_dict()) == cfg
    on = conditional(labelled_root, "conditional.head=projection")
    assert on.to_dict()["conditional"] == {"enabled": True, "head": "projection", "aux_weight": 1.0,
                                           "classify_fakes": False}
    assert validate(on.to_dict()) == on


@pytest.mark.parametrize("dataset", ["triangles", "celeba"])
def test_conditioning_a_data_set_without_labels_names_the_field_the_data_set_and_the_labelled_ones(dataset):
    with pytest.raises(ConfigError) as error:
        validate(compose([f"dataset={dataset}", "eval=none", "conditional.enabled=true"]))
    message = str(error.value)
    assert message.startswith("conditional.enabled = True is not allowed")
    assert f"'{dataset}' has no class labels" in message
    assert all(name in message for name in ("cifar10", "fashion_mnist", "mnist"))


@pytest.mark.parametrize("override, field, value, allowed", [
    ("conditional.head=hinge", "conditional.head", "'hinge'", "one of ['acgan', 'projection']"),
    ("conditional.aux_weight=-1", "conditional.aux_weight", "-1", "a finite number >= 0"),
    ("conditional.classify_fakes=maybe", "conditional.classify_fakes", "'maybe'", "true or false"),
])
def test_bad_conditional_options_name_field_value_and_allowed(override, field, value, allowed):
    with pytest.raises(ConfigError) as error:
        validate(compose(["dataset=mnist", "eval=none", "conditional.enabled=true", override]))
    assert str(error.value) == f"{field} = {value} is not allowed: {allowed}"


class OwnNetworks(get_loss("ns_gan")):
    """A loss on networks of its own, which have no conditional version."""

    def build_networks(self, image_shape, z_dim, discriminator_batchnorm, generator_activation) -> Networks:
        return Networks(nn.Linear(z_dim, 1), nn.Linear(1, 1))


register_loss("test_own_networks")(OwnNetworks)


def test_a_loss_on_networks_without_a_conditional_version_is_refused_at_validation():
    overrides = ["dataset=mnist", "eval=none", "model.name=test_own_networks", "model.loss_params={}"]
    assert validate(compose(overrides)).model.name == "test_own_networks"  # fine unconditionally
    with pytest.raises(ConfigError) as error:
        validate(compose([*overrides, "conditional.enabled=true"]))
    message = str(error.value)
    assert message.startswith("conditional.enabled = True is not allowed for model 'test_own_networks'")
    assert "no class-conditional version of torch.nn.modules.linear.Linear" in message
