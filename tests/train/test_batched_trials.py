"""K trials trained as one batched computation equal each trial trained alone (CPU).

Two checks. In float64 the batched group and the project's own step (`GANLoss.train_step` with torch's Adam),
run trial by trial, agree to 1e-9 over several steps: the same algorithm. In float32 the group reproduces
`run_training` itself (seed, initialisation, batch order, latents): the losses of its first step. Longer
float32 comparisons are not a test of the algorithm: at the paper's initialisation the gradients reaching G
are tiny and batch norm's backward cancels them, so float32 rounding (a grouped convolution sums in another
order) moves Adam's first, sign-like steps by several per cent.

The float64 checks train the paper's networks (every layer) on the data shrunk to 8 × 8 (`shrunk`): the
algorithm they compare does not depend on the image size, and a step costs a fraction of a 28 × 28 one.
"""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from gan_study.models.losses import ConditionalLoss, GANLoss, Optimizers, get_loss
from gan_study.study.config import validate
from gan_study.study.data import ImageSet, load_dataset
from gan_study.study.train import run_training
from gan_study.study.train.batched import BatchedTrials, TrialSettings, batched_trials, generator_due, group_key
from gan_study.study.train.batches import BatchStream
from gan_study.study.train.checkpoint import restore_rng_state, rng_state
from gan_study.study.train.run_folder import RunFolder
from tests.conftest import compose

TRIALS = [TrialSettings(0, 1e-4, 0.5), TrialSettings(1, 3e-4, 0.9), TrialSettings(2, 1e-3, 0.5, 0.99)]
SHAPE, Z_DIM, BATCH = (1, 8, 8), 16, 8


@pytest.fixture
def float64():
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def shrunk(images: ImageSet) -> ImageSet:
    """The images averaged down to SHAPE's 8 × 8 in their own dtype (uint8 rounded, float as is), labels kept."""
    small = F.adaptive_avg_pool2d(images.images.double(), SHAPE[1:])
    if not images.images.is_floating_point():
        small = small.round()
    return ImageSet(small.to(images.images.dtype), images.labels, images.name, images.split)


def triangles(data_root):
    return shrunk(load_dataset("triangles", data_root, "train").head(256))


class Alone:
    """One trial by the project's step, as run_training drives it: seed, networks, Adam, stream, global-RNG z;
    `checkpoint()` / `restore()` hold what run_training's checkpoint.pt holds of the training state."""

    def __init__(self, loss: str | GANLoss, trial: TrialSettings, images, n_disc: int, optimizer: str = "adam"):
        self.loss = get_loss(loss)() if isinstance(loss, str) else loss
        self.images, self.n_disc, self.step = images, n_disc, 0
        torch.manual_seed(trial.seed)
        self.nets = self.loss.build_networks(images.shape, Z_DIM, True, "lrelu")
        if optimizer == "rmsprop":  # as run.make_optimizer
            make = lambda module: torch.optim.RMSprop(module.parameters(), lr=trial.lr, alpha=0.9, eps=1e-10)  # noqa: E731
        else:
            make = lambda module: torch.optim.Adam(module.parameters(), lr=trial.lr, betas=(trial.beta1, trial.beta2))  # noqa: E731
        self.optimizers = Optimizers(make(self.nets.generator), make(self.nets.discriminator))
        self.stream = BatchStream(len(images), BATCH, trial.seed)

    def train(self, steps: int) -> list[dict]:
        if self.loss.prior == "uniform":
            sample_z = lambda: torch.rand(BATCH, Z_DIM) * 2 - 1  # noqa: E731
        else:
            sample_z = lambda: torch.randn(BATCH, Z_DIM)  # noqa: E731
        logs = []
        for _ in range(steps):
            indices = self.stream.next()
            real, z = self.images.batch(indices).to(torch.get_default_dtype()), sample_z()
            labels = {}
            if isinstance(self.loss, ConditionalLoss):  # drawn after z, as run_training's _labels
                labels = {"real_labels": self.images.labels[indices],
                          "fake_labels": torch.randint(self.loss.num_classes, (BATCH,))}
            logs.append(self.loss.train_step(self.nets, self.optimizers, real, z, generator_due(self.step, self.n_disc),
                                             sample_z, **labels))
            self.step += 1
        return logs

    def checkpoint(self) -> dict:
        return copy.deepcopy({
            "step": self.step, "generator": self.nets.generator.state_dict(),
            "discriminator": self.nets.discriminator.state_dict(), "loss": self.loss.state_dict(),
            "optimizer_g": self.optimizers.generator.state_dict(),
            "optimizer_d": self.optimizers.discriminator.state_dict(), "stream": self.stream.state_dict(),
            "rng": rng_state()})

    def restore(self, state: dict) -> None:
        owners = {"generator": self.nets.generator, "discriminator": self.nets.discriminator, "loss": self.loss,
                  "optimizer_g": self.optimizers.generator, "optimizer_d": self.optimizers.discriminator,
                  "stream": self.stream}
        for key, owner in owners.items():
            owner.load_state_dict(state[key])
        restore_rng_state(state["rng"])
        self.step = state["step"]


def train_alone(loss_name: str, trial: TrialSettings, images, steps: int, n_disc: int):
    alone = Alone(loss_name, trial, images, n_disc)
    return alone.nets, alone.train(steps)


def assert_networks_equal(batched: tuple[dict, dict], state: dict, atol: float = 1e-9) -> None:
    """A group's trial (`state_dicts`) equals a checkpoint's networks, but for the biases right before a batch norm.

    Those change no output (the norm subtracts the batch mean) and their gradient is zero up to rounding, so
    they move by rounding noise alone, which Adam and RMSProp scale up to lr-sized steps: not compared. The
    atol of the others is explained where it is first used."""
    for got, expected in zip(batched, (state["generator"], state["discriminator"])):
        for name, value in expected.items():
            if not feeds_a_batch_norm(name, expected):
                torch.testing.assert_close(got[name], value, rtol=1e-9, atol=atol, msg=lambda m: f"{name}: {m}")


def feeds_a_batch_norm(name: str, state_dict: dict) -> bool:
    """`body.3.bias` when `body.4` is a batch norm (has running statistics)."""
    prefix, _, last = name.rpartition(".")
    layer, _, position = prefix.rpartition(".")
    return (last == "bias" and position.isdigit()
            and f"{layer}.{int(position) + 1}.running_mean".lstrip(".") in state_dict)


@pytest.mark.parametrize("loss_name", ["ns_gan", "wgan"])
def test_in_float64_each_batched_trial_is_its_own_training_step_by_step(loss_name, data_root, float64):
    """Two trials, 4 steps, n_disc 2: G steps at 0, 1, 3, D-only step 2; wgan also clips D after every step."""
    steps, n_disc, trials = 4, 2, TRIALS[1:]
    images = triangles(data_root)
    group = BatchedTrials(get_loss(loss_name)(), trials, images, n_disc=n_disc, batch_size=BATCH, z_dim=Z_DIM)
    group_logs = [group.step() for _ in range(steps)]
    for index, trial in enumerate(trials):
        nets, logs = train_alone(loss_name, trial, images, steps, n_disc)
        for alone, together in zip(logs, group_logs):
            assert alone.keys() == together.keys()
            for key in alone:
                torch.testing.assert_close(together[key][index], alone[key], rtol=1e-9, atol=1e-12)
        generator, discriminator = group.state_dicts(index)
        # atol 1e-9, 1e-5 of one Adam step: the biases right before a batch norm have a zero gradient up to
        # rounding, which Adam turns into steps of ~1e-11; a wrong lr, beta or batch would be off by ~1e-5
        for batched, module in ((generator, nets.generator), (discriminator, nets.discriminator)):
            for name, expected in module.state_dict().items():
                torch.testing.assert_close(batched[name], expected, rtol=1e-9, atol=1e-9, msg=lambda m: f"{name}: {m}")


def test_in_float32_the_group_starts_as_run_training_does(data_root, tmp_path):
    configs = [validate(compose(["dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}",
                                 "model=ns_gan", f"seed={trial.seed}", f"model.lr={trial.lr}",
                                 f"model.beta1={trial.beta1}", f"model.beta2={trial.beta2}", "train.steps=1",
                                 "train.eval_every_steps=1", "train.sample_grid=0"]))
               for trial in TRIALS]
    group = batched_trials(configs)
    logs = group.step()
    for index, cfg in enumerate(configs):
        assert run_training(cfg, tmp_path / str(index)).status == "completed"
        (row,) = RunFolder(tmp_path / str(index)).read_metrics()
        assert float(row["loss_d"]) == pytest.approx(float(logs["loss_d"][index]), rel=1e-6)
        # G's loss comes after D's update, on the same z: equal only if D was updated alike
        assert float(row["loss_g"]) == pytest.approx(float(logs["loss_g"][index]), rel=1e-5)


def test_a_group_refuses_trials_that_differ_in_more_than_seed_lr_and_beta(data_root):
    def cfg(*extra):
        return validate(compose(["dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}",
                                 "model=ns_gan", *extra]))
    assert group_key(cfg("seed=3", "model.lr=0.001")) == group_key(cfg())
    with pytest.raises(ValueError, match="differ in more than seed, lr and beta: 2 different groups"):
        batched_trials([cfg(), cfg("model.n_disc=2")])
    with pytest.raises(ValueError, match="differ in more than seed, lr and beta: 2 different groups"):
        batched_trials([cfg(), cfg("train.optimizer=rmsprop")])
    with pytest.raises(ValueError, match=r"train.precision = 'bf16' cannot be trained as batched trials; "
                                         r"allowed: 'fp32'"):
        batched_trials([cfg("train.precision=bf16")])


def test_a_loss_not_checked_to_batch_exactly_is_refused_with_the_reason(data_root):
    class Hinge(get_loss("ns_gan")):
        name = "hinge"  # a plugin's loss: it may draw random numbers inside its step
    with pytest.raises(ValueError, match=r"model.name = 'hinge' cannot be trained as batched trials: it is not one "
                                         r"of the losses checked to batch exactly; allowed: mm_gan, ns_gan, .*, vae"):
        BatchedTrials(Hinge(), TRIALS, triangles(data_root), n_disc=5, batch_size=BATCH, z_dim=Z_DIM)
