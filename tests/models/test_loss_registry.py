"""The loss registry and the checks on loss hyperparameters: every refusal names what is wrong and what is allowed."""
from __future__ import annotations

import pytest

from gan_study.models import GANLoss, available_losses, get_loss, register_loss
from gan_study.models.losses import registry

PAPER_LOSSES = ["began", "dragan", "lsgan", "mm_gan", "ns_gan", "vae", "wgan", "wgan_gp"]


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made by a test vanish after it."""
    monkeypatch.setattr(registry.LOSSES, "entries", dict(registry.LOSSES.entries))


def test_the_eight_losses_are_registered_under_their_config_names():
    assert set(PAPER_LOSSES) <= set(available_losses())
    for name in PAPER_LOSSES:
        assert get_loss(name).name == name and issubclass(get_loss(name), GANLoss)


def test_priors_and_the_fresh_z_switch():
    assert {name: get_loss(name).prior for name in PAPER_LOSSES} == {**dict.fromkeys(PAPER_LOSSES, "uniform"),
                                                                      "vae": "normal"}
    assert [name for name in PAPER_LOSSES if get_loss(name).resample_z_for_generator] == ["wgan_gp"]


def test_default_hyperparameters_are_the_papers():
    wgan, wgan_gp, lsgan = get_loss("wgan")(), get_loss("wgan_gp")(), get_loss("lsgan")()
    dragan, began = get_loss("dragan")(), get_loss("began")()
    assert (wgan.clip, wgan_gp.penalty_weight, lsgan.on) == (0.01, 10.0, "sigmoid")
    assert (dragan.penalty_weight, dragan.noise, dragan.gradient_of) == (10.0, "uniform", "probability")
    assert (began.k_lr, began.gamma, began.clip_k, began.k.item()) == (1e-3, 0.75, False, 0.0)


def test_a_duplicate_name_is_refused(scratch_registry):
    class Another(get_loss("ns_gan")):
        pass

    with pytest.raises(ValueError, match=r"'ns_gan' is already registered by gan_study\.models\.losses\.ns_gan\.NonSaturatingGAN"):
        register_loss("ns_gan")(Another)
    assert get_loss("ns_gan").__name__ == "NonSaturatingGAN"


def test_a_new_loss_registers_and_gets_its_name(scratch_registry):
    @register_loss("scratch_hinge")
    class Hinge(GANLoss):
        pass

    assert get_loss("scratch_hinge") is Hinge and Hinge.name == "scratch_hinge"
    assert "scratch_hinge" in available_losses()


@pytest.mark.parametrize("bad", ["", "has space", "1st", "dash-name", None, 3])
def test_names_must_be_identifiers(bad, scratch_registry):
    with pytest.raises(ValueError, match="allowed: a non-empty identifier"):
        register_loss(bad)


def test_only_gan_loss_subclasses_register(scratch_registry):
    with pytest.raises(TypeError, match=r"register_loss\('plain'\).*allowed: a subclass of gan_study\.models\.losses\.base\.GANLoss"):
        register_loss("plain")(dict)


def test_an_unknown_name_lists_the_allowed_ones():
    with pytest.raises(KeyError) as error:
        get_loss("hinge_gan")
    message = str(error.value)
    assert "'hinge_gan'" in message and "allowed" in message
    assert all(name in message for name in PAPER_LOSSES)


@pytest.mark.parametrize("name, params, field, value, allowed", [
    ("wgan", {"clip": -1}, "clip", "-1", "a finite number > 0"),
    ("wgan", {"clip": 0}, "clip", "0", "a finite number > 0"),
    ("wgan", {"clip": float("nan")}, "clip", "nan", "a finite number > 0"),
    ("wgan_gp", {"penalty_weight": -0.5}, "penalty_weight", "-0.5", "a finite number >= 0"),
    ("lsgan", {"on": "tanh"}, "on", "'tanh'", "one of ['sigmoid', 'logits']"),
    ("dragan", {"noise": "normal"}, "noise", "'normal'", "one of ['uniform', 'gaussian']"),
    ("dragan", {"gradient_of": "prob"}, "gradient_of", "'prob'", "one of ['probability', 'logit']"),
    ("dragan", {"penalty_weight": "10"}, "penalty_weight", "'10'", "a finite number >= 0"),
    ("began", {"gamma": 1.5}, "gamma", "1.5", "a number in [0, 1]"),
    ("began", {"k_lr": -1e-3}, "k_lr", "-0.001", "a finite number >= 0"),
    ("began", {"clip_k": "yes"}, "clip_k", "'yes'", "true or false"),
    ("wgan", {"clp": 0.1}, "clp", "0.1", "clip"),
    ("began", {"lambda_k": 0.1}, "lambda_k", "0.1", "k_lr, gamma, clip_k"),
    ("ns_gan", {"clip": 0.01}, "clip", "0.01", "none"),
    ("vae", {"beta": 2.0}, "beta", "2.0", "none"),
])
def test_bad_hyperparameters_name_loss_field_value_and_allowed(name, params, field, value, allowed):
    with pytest.raises(ValueError) as error:
        get_loss(name)(**params)
    message = str(error.value)
    assert message.startswith(f"{name}: ") and f"{field} = {value}" in message
    assert f"allowed: {allowed}" in message


def test_positional_hyperparameters_are_refused():
    with pytest.raises(ValueError, match=r"wgan: hyperparameters are keyword arguments.*allowed: clip"):
        get_loss("wgan")(0.01)
