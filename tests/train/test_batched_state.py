"""A trial moves between a batched group and a run of its own, and a frozen trial stays still (CPU).

In float64, against the project's step run trial by trial (tests/train/test_batched_trials.py's `Alone`, which
checkpoints what run_training's checkpoint.pt holds), to 1e-9: a trial taken out of a group and resumed
alone, and a solo checkpoint put into a group slot, both continue as the trial trained straight through. In
float32, the same through `run_training` itself, within a stated tolerance.
"""
from __future__ import annotations

import pytest
import torch

from gan_study.models.losses import get_loss
from gan_study.study.config import validate
from gan_study.study.train import run_training
from gan_study.study.train.batched import BatchedTrials, batched_trials
from gan_study.study.train.checkpoint import load_checkpoint, save_checkpoint
from gan_study.study.train.run_folder import RunFolder
from tests.conftest import compose
from tests.train.test_batched_trials import (BATCH, TRIALS, Z_DIM, Alone, assert_networks_equal, float64,  # noqa: F401
                                             triangles)

N_DISC, TRIAL, OTHER = 2, TRIALS[1], TRIALS[2]


@pytest.fixture(scope="module")
def straight(data_root):
    """TRIAL trained straight through for 4 steps in float64: its checkpoints after each step, and its logs."""
    torch.set_default_dtype(torch.float64)
    try:
        alone = Alone("ns_gan", TRIAL, triangles(data_root), N_DISC)
        checkpoints, logs = [alone.checkpoint()], []
        for _ in range(4):
            logs += alone.train(1)
            checkpoints.append(alone.checkpoint())
        return checkpoints, logs
    finally:
        torch.set_default_dtype(torch.float32)


def group_of(data_root, *trials) -> BatchedTrials:
    return BatchedTrials(get_loss("ns_gan")(), list(trials), triangles(data_root), n_disc=N_DISC,
                         batch_size=BATCH, z_dim=Z_DIM)


def assert_logs_equal(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-9, atol=1e-12)


def test_in_float64_a_trial_leaves_a_group_and_joins_one_at_its_own_step(straight, data_root, float64):
    """Slot 0 trains 2 steps in the group, is taken out and resumed alone; slot 1 then takes the straight run's
    checkpoint at step 1, so the two slots stand at different steps (G due in one, not the other) for 2 steps."""
    checkpoints, straight_logs = straight
    group = group_of(data_root, TRIAL, OTHER)
    for step in range(2):
        assert_logs_equal(group.trial_logs(group.step(), 0), straight_logs[step])
    state = group.trial_state(0)
    assert state["step"] == 2 and set(state["optimizer_g"]["param_groups"][0]) >= {"lr", "betas", "eps", "params"}

    alone = Alone("ns_gan", OTHER, triangles(data_root), N_DISC)  # its own init, then the group's state
    alone.restore(state)
    for step, logs in zip((2, 3), alone.train(2)):
        assert_logs_equal(logs, straight_logs[step])
    # atol 1e-9, 1e-5 of one Adam step: see test_batched_trials.py
    assert_networks_equal((alone.nets.generator.state_dict(), alone.nets.discriminator.state_dict()), checkpoints[4])

    group.load_trial_state(1, checkpoints[1])
    assert group.trials[1].lr == TRIAL.lr and group.trial_steps == [2, 1]
    for step in range(2):
        logs = group.step()
        assert_logs_equal(group.trial_logs(logs, 0), straight_logs[2 + step])
        assert_logs_equal(group.trial_logs(logs, 1), straight_logs[1 + step])
    assert_networks_equal(group.state_dicts(0), checkpoints[4])
    assert_networks_equal(group.state_dicts(1), checkpoints[3])


def test_a_frozen_trial_stays_bitwise_still_while_the_others_train_on(straight, data_root, float64):
    """Slot 1 diverges (a NaN in D) and is frozen: nothing of it moves, and slot 0 goes on as if alone."""
    checkpoints, _ = straight
    group = group_of(data_root, TRIAL, OTHER)
    group.step()
    with torch.no_grad():
        next(iter(group.d_params.values()))[1].fill_(float("nan"))
    group.freeze(1)
    before = group.trial_state(1)
    for _ in range(2):
        logs = group.step()
        assert group.trial_logs(logs, 1) == {}
    after = group.trial_state(1)
    torch.testing.assert_close(after, before, rtol=0, atol=0, equal_nan=True)
    assert_networks_equal(group.state_dicts(0), checkpoints[3])


def test_a_state_of_another_group_is_refused_naming_what_differs(straight, data_root, float64):
    state = dict(straight[0][1])
    state["discriminator"] = {**state["discriminator"], "extra.weight": torch.zeros(1)}
    group = group_of(data_root, TRIAL)
    with pytest.raises(ValueError, match=r"discriminator has \['extra.weight'\] the group lacks and lacks \[\]"):
        group.load_trial_state(0, state)
    with pytest.raises(ValueError, match=r"the state for trial 0 lacks \['rng'\]"):
        group.load_trial_state(0, {key: value for key, value in state.items() if key != "rng"})
    with pytest.raises(ValueError, match="trial = 1 is not allowed; allowed: 0 to 0"):
        group.freeze(1)


# -- through run_training itself, in float32 ----------------------------------------------------------------

def tiny_config(data_root, steps: int):
    return validate(compose(["dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}", "model=ns_gan",
                             f"seed={TRIAL.seed}", f"model.lr={TRIAL.lr}", f"model.beta1={TRIAL.beta1}",
                             f"train.steps={steps}", "train.eval_every_steps=2", "train.sample_grid=0",
                             "train.keep_checkpoint=true", f"model.n_disc={N_DISC}"]))


def final_networks(run_dir) -> tuple[dict, dict]:
    state = load_checkpoint(RunFolder(run_dir).checkpoint, torch.device("cpu"))
    return state["generator"], state["discriminator"]


def assert_close_in_float32(got: tuple[dict, dict], want: tuple[dict, dict]) -> None:
    """Every element within 10·lr, and the mean difference over each network under lr/5 (measured: 1.2e-5 for G,
    3e-7 for D, lr = 3e-4). float32: a grouped convolution sums in another order than the run's own, and Adam's
    first steps are sign-like, so an element whose tiny gradient rounds to the other sign moves about 2·lr the
    other way (biases right before a batch norm, whose gradient is zero up to rounding, most of all); a wrong
    batch, latent or optimiser state flips about half of all signs, a mean difference of about lr."""
    lr = TRIAL.lr
    for got_network, want_network in zip(got, want):
        differences = []
        for name, value in want_network.items():
            difference = (got_network[name].double() - value.double()).abs()
            assert difference.max() <= 10 * lr, f"{name}: {difference.max():.3g} > 10·lr"
            differences.append(difference.flatten())
        assert torch.cat(differences).mean() < lr / 5


def test_run_training_resumes_a_trial_from_its_group_state_and_a_group_from_its_checkpoint(data_root, tmp_path):
    straight_dir = tmp_path / "straight"
    assert run_training(tiny_config(data_root, 4), straight_dir).status == "completed"
    expected = final_networks(straight_dir)

    group = batched_trials([tiny_config(data_root, 4)])
    group.step(), group.step()
    resumed = RunFolder(tmp_path / "from_group")
    resumed.create(tiny_config(data_root, 4).to_dict())
    save_checkpoint(resumed.checkpoint, {**group.trial_state(0), "loss_sums": {}, "loss_counts": {}, "elapsed_s": 0.0,
                                         "summary": {"best": {}, "best_step": {}, "final": {}, "cards": {}}})
    record = run_training(tiny_config(data_root, 4), resumed.root)
    assert (record.status, record.resumed_from_step, record.steps_run_this_process) == ("completed", 2, 2)
    assert_close_in_float32(final_networks(resumed.root), expected)

    assert run_training(tiny_config(data_root, 2), tmp_path / "first_half").status == "completed"
    group.load_trial_state(0, load_checkpoint(RunFolder(tmp_path / "first_half").checkpoint, torch.device("cpu")))
    group.step(), group.step()
    assert_close_in_float32(group.state_dicts(0), expected)
