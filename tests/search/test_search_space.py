"""Search spaces and trial lists: the paper's ranges (§5.2-5.4), the draws' distributions, determinism."""
from __future__ import annotations

import math
import os
import random
import re
import subprocess
import sys
import statistics
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from gan_study.study.config import ConfigError
from gan_study.study.search.space import SearchSpace
from gan_study.study.search.trial_list import search_trials, seed_trials
from sweep_testkit import compose_sweep

MODELS = ["ns_gan", "mm_gan", "lsgan", "wgan", "wgan_gp", "dragan", "began", "vae"]
LOG, UNI = "log", "uniform"

# docs/protocol.md#wide-ranges and #narrow-ranges, written out independently of conf/search: name -> (path, spec)
WIDE_COMMON = {"lr": ("model.lr", (LOG, 1e-5, 1e-2)), "beta1": ("model.beta1", (UNI, 0.0, 1.0)),
               "n_disc": ("model.n_disc", [1, 5]),
               "discriminator_batchnorm": ("model.discriminator_batchnorm", [True, False])}
WIDE_EXTRA = {"wgan": {"clip": ("model.loss_params.clip", (LOG, 1e-3, 1.0))},
              "wgan_gp": {"penalty_weight": ("model.loss_params.penalty_weight", (LOG, 0.1, 100.0))},
              "dragan": {"penalty_weight": ("model.loss_params.penalty_weight", (LOG, 0.1, 100.0))},
              "began": {"k_lr": ("model.loss_params.k_lr", (LOG, 1e-4, 1e-2)),
                        "gamma": ("model.loss_params.gamma", (UNI, 0.0, 1.0))}}
NARROW_COMMON = {"lr": ("model.lr", (LOG, 1e-4, 1e-3)), "beta1": ("model.beta1", 0.5), "n_disc": ("model.n_disc", 1)}
NARROW_BN = {m: ("model.discriminator_batchnorm", False if m in ("wgan_gp", "dragan") else [True, False])
             for m in MODELS}
NARROW_EXTRA = {"wgan": {"clip": ("model.loss_params.clip", (LOG, 1e-2, 1.0))},
                "wgan_gp": {"penalty_weight": ("model.loss_params.penalty_weight", (LOG, 0.1, 10.0))},
                "dragan": {"penalty_weight": ("model.loss_params.penalty_weight", (LOG, 0.1, 10.0))},
                "began": {"k_lr": ("model.loss_params.k_lr", 1e-3),
                          "gamma": ("model.loss_params.gamma", (UNI, 0.6, 0.9))}}
# docs/protocol.md#defaults: trial 0 (lr, beta1, n_disc, D batch norm, extras)
DEFAULTS = {"ns_gan": (5e-5, 0.0, 1, True, {}), "mm_gan": (5e-5, 0.0, 1, True, {}),
            "lsgan": (2e-4, 0.5, 1, True, {}), "wgan": (5e-5, 0.5, 5, True, {"clip": 0.01}),
            "wgan_gp": (1e-4, 0.5, 5, False, {"penalty_weight": 10.0}),
            "dragan": (1e-4, 0.5, 1, True, {"penalty_weight": 10.0}),
            "began": (1e-4, 0.5, 5, False, {"k_lr": 1e-3, "gamma": 0.75}), "vae": (5e-5, 0.5, 1, True, {})}


def expected(search: str, model: str) -> dict:
    if search == "wide":
        return {**WIDE_COMMON, **WIDE_EXTRA.get(model, {})}
    return {**NARROW_COMMON, "discriminator_batchnorm": NARROW_BN[model], **NARROW_EXTRA.get(model, {})}


def as_expected(space: SearchSpace) -> dict:
    """The space in the notation of the tables above."""
    out = {}
    for p in space.params:
        if p.kind == "fixed":
            spec = p.value
        elif p.kind == "categorical":
            spec = list(p.choices)
        else:
            spec = (LOG if p.log else UNI, p.low, p.high)
        out[p.name] = (p.path, spec)
    return out


@pytest.fixture(scope="module")
def composed():
    """search -> model -> the composed sweep config (plain)."""
    return {search: {model: OmegaConf.to_container(compose_sweep([f"model={model}", f"search={search}"]),
                                                   resolve=True)
                     for model in MODELS} for search in ("wide", "narrow")}


def space_of(composed, search: str, model: str) -> SearchSpace:
    return SearchSpace.from_config(search, model, composed[search][model]["search"]["space"])


@pytest.mark.parametrize("search", ["wide", "narrow"])
def test_conf_spaces_are_the_papers_ranges(composed, search):
    for model in MODELS:
        assert as_expected(space_of(composed, search, model)) == expected(search, model), (search, model)


@pytest.mark.parametrize("search", ["wide", "narrow"])
def test_trial_zero_is_the_published_default_and_flags_what_the_space_excludes(composed, search):
    for model in MODELS:
        config = composed[search][model]
        space = space_of(composed, search, model)
        lr, beta1, n_disc, bn, extra = DEFAULTS[model]
        if search == "narrow" and model == "vae":
            bn = False  # §5.4: the VAE's sample #0 has encoder BN off in the narrow experiments
        trial0 = search_trials(space, 3, 123, space.defaults(config))[0]
        assert trial0.is_default and trial0.index == 0 and trial0.seed == 0
        assert trial0.values == {"lr": lr, "beta1": beta1, "n_disc": n_disc, "discriminator_batchnorm": bn, **extra}
        outside = set()
        for name, (_, spec) in expected(search, model).items():
            value = trial0.values[name]
            if isinstance(spec, tuple):
                inside = spec[1] <= value <= spec[2]
            elif isinstance(spec, list):
                inside = value in spec
            else:
                inside = value == spec
            if not inside:
                outside.add(name)
        assert set(trial0.outside_space) == outside, (search, model)
    if search == "wide":
        return
    # the pitfalls named by docs/protocol.md#defaults
    ns = search_trials(space_of(composed, "narrow", "ns_gan"), 1, 1, space_of(composed, "narrow", "ns_gan")
                       .defaults(composed["narrow"]["ns_gan"]))[0]
    assert set(ns.outside_space) == {"lr", "beta1"}
    dragan = space_of(composed, "narrow", "dragan")
    assert "discriminator_batchnorm" in search_trials(dragan, 1, 1, dragan.defaults(composed["narrow"]["dragan"]))[
        0].outside_space


def test_thousands_of_wide_draws_have_the_papers_distributions(composed):
    space = space_of(composed, "wide", "began")
    trials = search_trials(space, 4000, seed=7, defaults=None)
    assert not any(t.is_default for t in trials)
    log_lr = [math.log10(t.values["lr"]) for t in trials]
    assert all(-5 <= v <= -2 for v in log_lr)
    # log-uniform on [-5, -2]: mean -3.5, sd 3/sqrt(12) = 0.866; sampling error of the mean ~ 0.014
    assert statistics.fmean(log_lr) == pytest.approx(-3.5, abs=0.06)
    assert statistics.stdev(log_lr) == pytest.approx(3 / math.sqrt(12), abs=0.03)
    # a plain uniform on the lr itself would put ~97% of the draws above 1e-3; log-uniform puts 1/3 there
    assert sum(v > -3 for v in log_lr) / len(log_lr) == pytest.approx(1 / 3, abs=0.03)
    beta1 = [t.values["beta1"] for t in trials]
    assert all(0 <= b <= 1 for b in beta1)
    assert statistics.fmean(beta1) == pytest.approx(0.5, abs=0.02)
    assert statistics.variance(beta1) == pytest.approx(1 / 12, abs=0.006)
    n_disc = [t.values["n_disc"] for t in trials]
    assert set(n_disc) == {1, 5}
    assert n_disc.count(5) / len(n_disc) == pytest.approx(0.5, abs=0.03)
    bn = [t.values["discriminator_batchnorm"] for t in trials]
    assert set(map(type, bn)) == {bool} and bn.count(True) / len(bn) == pytest.approx(0.5, abs=0.03)
    log_k = [math.log10(t.values["k_lr"]) for t in trials]
    assert all(-4 <= v <= -2 for v in log_k) and statistics.fmean(log_k) == pytest.approx(-3.0, abs=0.05)


def test_narrow_draws_keep_fixed_values_and_stay_in_range(composed):
    space = space_of(composed, "narrow", "began")
    trials = search_trials(space, 2000, seed=1, defaults=None)
    assert {t.values["beta1"] for t in trials} == {0.5}
    assert {t.values["n_disc"] for t in trials} == {1}
    assert {t.values["k_lr"] for t in trials} == {1e-3}
    gamma = [t.values["gamma"] for t in trials]
    assert all(0.6 <= g <= 0.9 for g in gamma) and statistics.fmean(gamma) == pytest.approx(0.75, abs=0.01)
    assert all(1e-4 <= t.values["lr"] <= 1e-3 for t in trials)
    assert not any(t.outside_space for t in trials)


def test_the_trial_list_is_a_pure_prefix_stable_function_of_the_seed(composed):
    space = space_of(composed, "wide", "wgan_gp")
    defaults = space.defaults(composed["wide"]["wgan_gp"])
    first = search_trials(space, 50, 123, defaults)
    assert search_trials(space, 50, 123, defaults) == first
    assert search_trials(space, 20, 123, defaults) == first[:20]  # growing n_trials keeps the earlier trials
    assert search_trials(space, 50, 124, defaults)[1:] != first[1:]
    # draws do not depend on whether trial 0 is the default: draw j is trial j+1 with defaults
    assert [t.values for t in search_trials(space, 49, 123, None)] == [t.values for t in first[1:]]
    assert len({tuple(sorted(t.values.items())) for t in first}) == 50  # no duplicate parameters
    other = space_of(composed, "wide", "dragan")  # same ranges for lr: another model draws its own stream
    assert [t.values["lr"] for t in search_trials(other, 50, 123, None)] != [t.values["lr"] for t in first[1:]]


def test_the_trial_list_does_not_depend_on_the_process():
    """String seeds must not go through Python's per-process hash randomisation."""
    code = ("from gan_study.study.search.space import SearchSpace; from gan_study.study.search.trial_list import search_trials; "
            "s = SearchSpace.from_config('w', 'm', {'params': {'x': {'path': 'a.x', 'type': 'float', "
            "'low': 0.0, 'high': 1.0}}}); print(search_trials(s, 3, 5, None)[2].values['x'])")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": str(h)}).stdout for h in (1, 2)}
    stream = random.Random("5/m")
    expected = [stream.uniform(0.0, 1.0) for _ in range(3)][2]
    assert len(outputs) == 1 and float(outputs.pop()) == expected


def test_seed_trials_repeat_one_configuration_over_seeds():
    trials = seed_trials({"lr": 1e-4, "n_disc": 5}, 50)
    assert [t.seed for t in trials] == list(range(50))
    assert all(t.values == {"lr": 1e-4, "n_disc": 5} for t in trials)


def test_a_user_written_space_file(tmp_path: Path):
    path = tmp_path / "my_space.yaml"
    path.write_text("params:\n"
                    "  lr: {path: model.lr, type: float, low: 1.0e-4, high: 1.0e-3, log: true}\n"
                    "  batch: {path: train.batch_size, type: int, low: 16, high: 128, step: 16}\n"
                    "  act: {path: model.generator_activation, type: categorical, choices: [relu, lrelu]}\n")
    space = SearchSpace.from_config("mine", "ns_gan", OmegaConf.to_container(OmegaConf.load(path)))
    trials = search_trials(space, 500, 3, None)
    assert {t.values["batch"] for t in trials} == set(range(16, 129, 16))
    assert {t.values["act"] for t in trials} == {"relu", "lrelu"}
    assert SearchSpace.from_dict(space.to_dict()) == space


@pytest.mark.parametrize("params, message", [
    ({"lr": {"path": "model.lr", "type": "float", "low": 1e-2, "high": 1e-5}}, "params.lr.low = 0.01"),
    ({"lr": {"path": "model.lr", "type": "float", "low": 0.0, "high": 1.0, "log": True}}, "a positive number"),
    ({"lr": {"path": "model.lr", "type": "gaussian"}}, "params.lr.type = 'gaussian'"),
    ({"lr": {"path": "model.lr", "type": "float", "low": 1, "high": 2, "choices": [1]}}, "params.lr.choices"),
    ({"lr": {"type": "fixed", "value": 1}}, "params.lr.path = None"),
    ({"n": {"path": "model.n_disc", "type": "categorical", "choices": []}}, "params.n.choices = []"),
    ({"a": {"path": "model.lr", "type": "fixed", "value": 1}, "b": {"path": "model.lr", "type": "fixed", "value": 2}},
     "params.a.path = 'model.lr'"),
])
def test_bad_spaces_are_refused_naming_the_field(params, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        SearchSpace.from_config("wide", "ns_gan", {"params": params})
