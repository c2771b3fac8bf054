"""Every validated field of gan-train, gan-sweep and gan-report, by property: random bad values are refused
with a `ConfigError`/`ValueError` naming the field and the value; random good values are accepted.

The validators are called in-process (a subprocess per example would take hours); a few real CLI runs prove
the same errors reach the user as one line with exit code 2 and no traceback.
"""
from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from hydra import compose, initialize_config_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from gan_study.analysis.cli import report_options
from gan_study.launch.sweep_settings import SweepSettings
from gan_study.study.config import SEED_MAX, ConfigError, validate
from gan_study.study.search.objective import resolve_objective
from gan_study.study.search.samplers import SamplerSpec

CONF = Path(__file__).resolve().parents[2] / "conf"
EXAMPLES = settings(max_examples=8, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NAN, INF = float("nan"), float("inf")
words = st.text(min_size=0, max_size=12)
not_numbers = st.one_of(words, st.booleans(), st.none(), st.lists(st.integers(), max_size=2))
not_flags = st.one_of(words, st.integers(), st.floats(allow_nan=False), st.none())


def ints(low: int, high: int | None = None) -> st.SearchStrategy:
    return st.integers(min_value=low, max_value=high if high is not None else low + 10**6)


def bad_ints(low: int, high: int | None = None) -> st.SearchStrategy:
    outside = [st.integers(max_value=low - 1)] + ([st.integers(min_value=high + 1)] if high is not None else [])
    return st.one_of(*outside, st.floats(allow_nan=True), words, st.booleans())


def unit_interval_open_right() -> st.SearchStrategy:
    return st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


def outside_unit_interval_open_right() -> st.SearchStrategy:
    return st.one_of(st.floats(min_value=1.0), st.floats(max_value=0.0, exclude_max=True), st.just(NAN), not_numbers)


def choice(options: tuple, bad=words) -> tuple[st.SearchStrategy, st.SearchStrategy]:
    return st.sampled_from(list(options)), bad.filter(lambda v: v not in options)


def compose_config(name: str, overrides: list[str]) -> Any:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name=name, overrides=overrides)


# -- gan-train: study.config.validate ---------------------------------------------------------------------

TRAIN_FIELDS: dict[str, tuple[st.SearchStrategy, st.SearchStrategy]] = {
    "model.lr": (st.floats(min_value=1e-12, max_value=1e6), st.one_of(
        st.floats(max_value=0.0), st.just(INF), st.just(NAN), not_numbers)),
    "model.beta1": (unit_interval_open_right(), outside_unit_interval_open_right()),
    "model.beta2": (unit_interval_open_right(), outside_unit_interval_open_right()),
    "model.n_disc": (ints(1), bad_ints(1)),
    "model.discriminator_batchnorm": (st.booleans(), not_flags),
    "model.generator_activation": choice(("lrelu", "relu")),
    "model.name": (st.just("ns_gan"), words),
    "dataset.name": (st.just("triangles"), words),
    "dataset.epoch_size": (ints(1), bad_ints(1)),
    "dataset.epochs": (ints(1), bad_ints(1)),
    "dataset.eval_every_epochs": (ints(1), bad_ints(1)),
    "dataset.train_split": choice(("train",)),
    "dataset.download": (st.booleans(), not_flags),
    "train.batch_size": (ints(1, 4096), bad_ints(1)),
    "train.z_dim": (ints(1, 512), bad_ints(1)),
    "train.steps": (st.one_of(st.none(), ints(1)), bad_ints(1).filter(lambda v: v is not None)),
    "train.eval_every_steps": (st.one_of(st.none(), ints(1)), bad_ints(1).filter(lambda v: v is not None)),
    "train.log_every_steps": (ints(1), bad_ints(1)),
    "train.sample_grid": (ints(0, 256), bad_ints(0)),
    "train.threads": (st.one_of(st.none(), ints(1, 256)), bad_ints(1).filter(lambda v: v is not None)),
    "train.train_size": (st.one_of(st.none(), ints(1)), bad_ints(1).filter(lambda v: v is not None)),
    "train.fused_adam": choice(("auto", "on", "off", True, False), not_flags.filter(lambda v: v is not None)),
    "train.precision": choice(("fp32", "bf16")),
    "train.optimizer": choice(("adam", "rmsprop")),
    "train.keep_checkpoint": (st.booleans(), not_flags),
    "train.tf32": (st.booleans(), not_flags),
    "eval.seed": (ints(0, SEED_MAX), bad_ints(0, SEED_MAX)),
    "eval.batch_size": (ints(1), bad_ints(1)),
    "seed": (ints(0, SEED_MAX), bad_ints(0, SEED_MAX)),
    "device": (st.sampled_from(["cpu", "auto", "cuda", "cuda:3"]),
               st.one_of(words.filter(lambda v: v not in ("cpu", "auto", "cuda")), st.integers(), st.just("cuda:x"))),
    "conditional.head": choice(("acgan", "projection")),
    "conditional.aux_weight": (st.floats(min_value=0.0, max_value=1e6),
                               st.one_of(st.floats(max_value=0.0, exclude_max=True), st.just(INF), st.just(NAN),
                                         not_numbers)),
    "conditional.classify_fakes": (st.booleans(), not_flags),
}
FIELD_NAMES = {"seed": "config.seed"}  # how the message names a top-level key


@pytest.fixture(scope="module")
def train_config() -> dict[str, Any]:
    return OmegaConf.to_container(compose_config("config", ["dataset=triangles", "eval=none", "train=tiny"]),
                                  resolve=True)


def with_value(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    *parents, key = path.split(".")
    node = changed
    for parent in parents:
        node = node.setdefault(parent, {})
    node[key] = value
    return changed


def assert_refused(check: Callable[[], Any], field: str, value: Any, errors=(ConfigError,)) -> None:
    with pytest.raises(errors) as caught:
        check()
    message = str(caught.value)
    shown = "nan" if isinstance(value, float) and math.isnan(value) else repr(value)
    assert f"{field} = " in message and shown in message, (field, value, message)


def holds(strategies: tuple[st.SearchStrategy, st.SearchStrategy], check: Callable[[Any], Any], field: str,
          errors=(ConfigError,)) -> None:
    """`check(value)` accepts every drawn good value and refuses every drawn bad one, naming field and value."""
    good, bad = strategies

    @EXAMPLES
    @given(value=good)
    def accepts(value):
        check(value)

    @EXAMPLES
    @given(value=bad)
    def refuses(value):
        assert_refused(lambda: check(value), field, value, errors)

    accepts()
    refuses()


@pytest.mark.parametrize("path", list(TRAIN_FIELDS))
def test_gan_train_fields(path, train_config):
    holds(TRAIN_FIELDS[path], lambda value: validate(with_value(train_config, path, value), check_files=False),
          FIELD_NAMES.get(path, path))


# -- gan-sweep: the driver's settings, the objective, the sampler -------------------------------------------

SWEEP_FIELDS: dict[str, tuple[st.SearchStrategy, st.SearchStrategy]] = {
    "heartbeat.interval_s": (st.floats(min_value=0.01, max_value=100.0),
                             st.one_of(st.floats(max_value=0.01, exclude_max=True), st.just(INF), st.just(NAN),
                                       not_numbers)),
    "max_requeues": (ints(0), bad_ints(0)),
    "poll_s": (st.floats(min_value=0.01, max_value=1e6),
               st.one_of(st.floats(max_value=0.01, exclude_max=True), st.just(INF), st.just(NAN), not_numbers)),
    "progress_every_s": (st.floats(min_value=0.0, max_value=1e6),
                         st.one_of(st.floats(max_value=0.0, exclude_max=True), st.just(INF), st.just(NAN),
                                   not_numbers)),
    "dry_run": (st.booleans(), not_flags),
    "retry_failed": (st.booleans(), not_flags),
    "wait_for_others": (st.booleans(), not_flags),
    "follow": (st.booleans(), not_flags),
    "kind": choice(("search", "seeds")),
}


@pytest.fixture(scope="module")
def sweep_config() -> dict[str, Any]:
    config = OmegaConf.to_container(compose_config("sweep", ["dataset=triangles", "eval=none"]), resolve=True)
    config["heartbeat"]["grace_s"] = 1e9  # interval_s draws stay below half of it
    return config


@pytest.mark.parametrize("path", list(SWEEP_FIELDS))
def test_gan_sweep_settings(path, sweep_config):
    holds(SWEEP_FIELDS[path], lambda value: SweepSettings.from_config(with_value(sweep_config, path, value)), path)


OBJECTIVE_FIELDS = {"reduce": choice(("best", "final")), "direction": choice(("auto", "minimize", "maximize")),
                    "diverged": choice(("keep", "worst")), "metric": choice(("precision", "recall", "f1"))}


@pytest.mark.parametrize("key", list(OBJECTIVE_FIELDS))
def test_gan_sweep_objective(key):
    good, bad = OBJECTIVE_FIELDS[key]
    base = {"metric": "precision", "reduce": "best", "direction": "auto", "diverged": "keep"}
    holds((good, bad.filter(lambda v: v is not None)),  # null is `auto` for the direction
          lambda value: resolve_objective({**base, key: value}, {"triangles_pr": {}}), f"objective.{key}")


@EXAMPLES
@given(good=st.integers(), bad=st.one_of(st.floats(), words, st.booleans(), st.none()))
def test_gan_sweep_sampler_seed(good, bad):
    SamplerSpec("random", good)
    assert_refused(lambda: SamplerSpec("random", bad), "sampler.seed", bad)


# -- gan-report: analysis.cli.report_options ----------------------------------------------------------------

REPORT_FIELDS: dict[str, tuple[st.SearchStrategy, st.SearchStrategy]] = {
    "bootstrap.resamples": (ints(1), bad_ints(1)),
    "bootstrap.replace": (st.booleans(), not_flags),
    "bootstrap.level": (st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True),
                        st.one_of(st.floats(min_value=1.0), st.floats(max_value=0.0), st.just(NAN), not_numbers)),
    "bootstrap.seed": (ints(0), bad_ints(0)),
    "bootstrap.method": choice(("bootstrap", "exact")),
    "bootstrap.interval": choice(("sd", "percentile")),
    "score": choice(("best", "final")),
    "paper_unverified": (st.booleans(), not_flags),
}


@pytest.fixture(scope="module")
def report_config() -> dict[str, Any]:
    return OmegaConf.to_container(compose_config("report", []), resolve=False)


@pytest.mark.parametrize("path", list(REPORT_FIELDS))
def test_gan_report_options(path, report_config):
    holds(REPORT_FIELDS[path], lambda value: report_options(OmegaConf.create(with_value(report_config, path, value))),
          path, errors=(ValueError,))


# -- the real commands -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("command", "args", "named"), [
    ("gan-train", ["model.beta1=1"], "model.beta1 = 1 is not allowed: a number in [0, 1)"),
    ("gan-train", ["model.lr=inf"], "model.lr = inf is not allowed: a positive, finite learning rate"),
    ("gan-report", ["export=x", "bootstrap.seed=-1"], "bootstrap.seed = -1 is not allowed: an integer >= 0"),
])
def test_the_commands_refuse_with_one_line_and_exit_2(command, args, named, tmp_path):
    proc = subprocess.run([str(Path(sys.executable).parent / command), "dataset=triangles", *args]
                          if command == "gan-train" else [str(Path(sys.executable).parent / command), *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=dict(os.environ))
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and named in proc.stderr, proc.stderr[-3000:]
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing written
