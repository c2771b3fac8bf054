"""Every loss, RMSProp and both conditional heads, batched: each trial equals training it alone (float64, CPU,
on 8 × 8 images: tests/train/test_batched_trials.py says why).

Two trials, 3 steps at n_disc 2 (G updated at steps 0 and 1, not at 2), against the project's step run trial by
trial (`Alone`: the loss's own `train_step`, torch's optimiser, global-RNG draws). Equal to 1e-9: each
step's logged values, the networks (atol 1e-9, as in test_batched_trials.py) and the loss's state (BEGAN's k).
The random draws inside a step (WGAN-GP's α, DRAGAN's u and α, the VAE's ε, the fake labels) come from each
trial's own stream, so they are the very numbers its run draws.
"""
from __future__ import annotations

import pytest
import torch

from gan_study.models.losses import ConditionalLoss, get_loss
from gan_study.study.data import load_dataset
from gan_study.study.train.batched import BatchedTrials
from tests.train.test_batched_trials import (BATCH, TRIALS, Z_DIM, Alone, assert_networks_equal, float64,  # noqa: F401
                                             shrunk, triangles)

STEPS, N_DISC = 3, 2


def assert_group_equals_alone(make_loss, images, optimizer: str = "adam") -> None:
    trials = TRIALS[1:]
    group = BatchedTrials(make_loss(), trials, images, n_disc=N_DISC, batch_size=BATCH, z_dim=Z_DIM,
                          optimizer=optimizer)
    group_logs = []
    for _ in range(STEPS):
        logs = group.step()
        group_logs.append([group.trial_logs(logs, index) for index in range(len(trials))])
    for index, trial in enumerate(trials):
        alone = Alone(make_loss(), trial, images, N_DISC, optimizer)
        for step, (expected, logs) in enumerate(zip(alone.train(STEPS), group_logs)):
            got = logs[index]
            assert got.keys() == expected.keys(), f"step {step}"
            for key in expected:
                torch.testing.assert_close(got[key], expected[key], rtol=1e-9, atol=1e-12,
                                           msg=lambda m: f"step {step} {key}: {m}")
        checkpoint = alone.checkpoint()
        assert_networks_equal(group.state_dicts(index), checkpoint)
        state = group.trial_state(index)
        torch.testing.assert_close(state["loss"], checkpoint["loss"], rtol=1e-9, atol=1e-12)
        assert state["optimizer_d"]["state"][0].keys() == checkpoint["optimizer_d"]["state"][0].keys()


@pytest.mark.parametrize("loss_name", ["wgan_gp", "dragan", "began", "vae", "lsgan", "mm_gan"])
def test_each_loss_batched_equals_each_trial_alone(loss_name, data_root, float64):
    assert_group_equals_alone(get_loss(loss_name), triangles(data_root))


def test_rmsprop_batched_equals_torch_rmsprop_alone(data_root, float64):
    """On the 28 × 28 images: on 8 × 8 ones a few weights of D's dense layer get gradients near 0, which RMSProp's
    eps of 1e-10 turns into lr-sized steps of rounding noise (4.5e-9 apart), as with the biases before a batch
    norm (assert_networks_equal)."""
    images = load_dataset("triangles", data_root, "train").head(256)
    assert_group_equals_alone(get_loss("dragan"), images, optimizer="rmsprop")


@pytest.mark.parametrize(("loss_name", "head"), [("wgan_gp", "acgan"), ("dragan", "projection"), ("vae", "acgan")])
def test_conditional_heads_batched_equal_each_trial_alone(loss_name, head, data_root, float64):
    """AC-GAN with WGAN-GP (class losses, the penalty's interpolates take the real labels, a fresh z for G with
    the step's fake labels); projection with DRAGAN; the conditional VAE (fake labels drawn, as run_training
    draws them, but both networks see the real ones)."""
    digits = shrunk(load_dataset("digits", data_root, "train").head(256))
    make = lambda: ConditionalLoss(loss=get_loss(loss_name)(), num_classes=10, head=head, aux_weight=1.0)  # noqa: E731
    assert_group_equals_alone(make, digits)
