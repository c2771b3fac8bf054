"""Search spaces: which config paths a study varies, and how (docs/protocol.md#search-spaces).

A space is plain data read from `conf/search/<space>/<model>.yaml` (docs/sweeps.md): each entry names a
config path and either a distribution (`float`, `int`, `categorical`) or a `fixed` value. Draws follow
the paper's code: parameters in sorted-name order, `uniform(low, high)`, `10 ** uniform(log10 low, log10
high)` on log scale, `choice` for categories — so a trial list depends on nothing but the seed and the
space (not on the Optuna version).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Mapping

import optuna
import optuna.distributions as od

from gan_study.models.checks import ConfigError, choice, flag, is_integer, is_number, refuse

KINDS = ("float", "int", "categorical", "fixed")
SCALARS = (bool, int, float, str, type(None))


@dataclass(frozen=True)
class Param:
    """One hyperparameter of a space: where it goes in the training config and how it is drawn."""

    name: str
    path: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: int | None = None
    choices: tuple = ()
    value: Any = None

    @property
    def searched(self) -> bool:
        return self.kind != "fixed"

    def draw(self, rng: random.Random) -> Any:
        """One value, consuming `rng` as the paper's `params.py` did."""
        if self.kind == "fixed":
            return self.value
        if self.kind == "categorical":
            return rng.choice(self.choices)
        if self.kind == "int" and not self.log:
            return self.low + (self.step or 1) * rng.randrange((self.high - self.low) // (self.step or 1) + 1)
        if self.log:
            value = 10 ** rng.uniform(math.log10(self.low), math.log10(self.high))
        else:
            value = rng.uniform(self.low, self.high)
        value = min(max(value, self.low), self.high)  # 10**log10(x) may round one ulp outside
        return int(round(value)) if self.kind == "int" else float(value)

    def contains(self, value: Any) -> bool:
        """Whether `value` could have been drawn (the paper's defaults often could not: docs/protocol.md#defaults)."""
        if self.kind == "fixed":
            return _same(value, self.value)
        if self.kind == "categorical":
            return any(_same(value, choice) for choice in self.choices)
        if not is_number(value):
            return False
        if self.kind == "int" and (value != int(value) or (value - self.low) % (self.step or 1)):
            return False
        return self.low <= value <= self.high

    def distribution(self) -> od.BaseDistribution:
        """The Optuna distribution of a searched parameter (what the dashboard and adaptive samplers see)."""
        if self.kind == "float":
            return od.FloatDistribution(self.low, self.high, log=self.log)
        if self.kind == "int":
            return od.IntDistribution(int(self.low), int(self.high), log=self.log, step=self.step or 1)
        if self.kind == "categorical":
            return od.CategoricalDistribution(self.choices)
        raise ValueError(f"{self.name} is fixed: it has no distribution")

    def suggest(self, trial: optuna.Trial) -> Any:
        """The value `trial`'s sampler proposes for this parameter (adaptive samplers), on `distribution()`."""
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=self.step or 1, log=self.log)
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, self.choices)
        raise ValueError(f"{self.name} is fixed: nothing to suggest")

    def to_dict(self) -> dict[str, Any]:
        keys = {"float": ("low", "high", "log"), "int": ("low", "high", "log", "step"),
                "categorical": ("choices",), "fixed": ("value",)}[self.kind]
        out: dict[str, Any] = {"path": self.path, "type": self.kind}
        for key in keys:
            value = getattr(self, key)
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps True apart from 1 (n_disc: 1 vs batch norm: true)."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def parse_param(name: str, spec: Any, where: str) -> Param:
    """A `Param` from its YAML mapping; a `ConfigError` names the field, the value and what is allowed."""
    if not isinstance(spec, Mapping):
        refuse(where, spec, "a mapping such as {path: model.lr, type: float, low: 1.0e-5, high: 1.0e-2, log: true}")
    spec = dict(spec)
    path = spec.get("path")
    if not isinstance(path, str) or not path or any(not part for part in path.split(".")):
        refuse(f"{where}.path", path, "a dotted config path such as model.lr or model.loss_params.clip")
    kind = choice(f"{where}.type", spec.get("type"), KINDS)
    allowed_keys = {"float": {"low", "high", "log"}, "int": {"low", "high", "log", "step"},
                    "categorical": {"choices"}, "fixed": {"value"}}[kind] | {"path", "type"}
    for key in spec:
        if key not in allowed_keys:
            refuse(f"{where}.{key}", spec[key], f"a key of a {kind} parameter: {sorted(allowed_keys)}")
    if kind == "fixed":
        if "value" not in spec or not isinstance(spec["value"], SCALARS):
            refuse(f"{where}.value", spec.get("value"), "a number, string, boolean or null")
        return Param(name, path, kind, value=spec["value"])
    if kind == "categorical":
        choices = spec.get("choices")
        if (not isinstance(choices, (list, tuple)) or not choices
                or not all(isinstance(c, SCALARS) for c in choices)):
            refuse(f"{where}.choices", choices, "a non-empty list of numbers, strings, booleans or null")
        if len({(type(c), c) for c in choices}) != len(choices):
            refuse(f"{where}.choices", choices, "distinct choices")
        return Param(name, path, kind, choices=tuple(choices))
    low, high, log = spec.get("low"), spec.get("high"), spec.get("log", False)
    for key, value in (("low", low), ("high", high)):
        if not is_number(value) or (kind == "int" and value != int(value)):
            refuse(f"{where}.{key}", value, "an integer" if kind == "int" else "a finite number")
    flag(f"{where}.log", log)
    if low > high:
        refuse(f"{where}.low", low, f"at most high = {high}")
    if log and low <= 0:
        refuse(f"{where}.low", low, "a positive number (log scale)")
    step = spec.get("step")
    if kind == "int":
        step = 1 if step is None else step
        if not is_integer(step) or step < 1 or (log and step != 1):
            refuse(f"{where}.step", step, "a positive integer (1 on log scale)")
        return Param(name, path, kind, low=int(low), high=int(high), log=log, step=step)
    return Param(name, path, kind, low=float(low), high=float(high), log=log)


@dataclass(frozen=True)
class SearchSpace:
    """The parameters of one model's space, sorted by name (the paper's draw order)."""

    name: str
    model: str
    params: tuple[Param, ...]
    default_overrides: dict[str, Any] = field(default_factory=dict)
    """Values of trial 0 that differ from the model config's (the narrow VAE's batch norm, docs/protocol.md#defaults)."""

    @classmethod
    def from_config(cls, name: str, model: str, config: Any, where: str | None = None) -> SearchSpace:
        where = where or "search.space"
        if not isinstance(config, Mapping):
            refuse(where, config, "a mapping with 'params' (and optionally 'defaults_override')")
        for key in config:
            if key not in ("params", "defaults_override"):
                refuse(f"{where}.{key}", config[key], "'params' or 'defaults_override'")
        raw = config.get("params")
        if not isinstance(raw, Mapping) or not raw:
            refuse(f"{where}.params", raw, "a non-empty mapping of parameter name -> spec")
        params = tuple(parse_param(str(key), raw[key], f"{where}.params.{key}") for key in sorted(raw))
        paths = [p.path for p in params]
        for param in params:
            if paths.count(param.path) > 1:
                refuse(f"{where}.params.{param.name}.path", param.path, "a path no other parameter of the space sets")
        overrides = dict(config.get("defaults_override") or {})
        for key, value in overrides.items():
            if key not in {p.name for p in params}:
                refuse(f"{where}.defaults_override.{key}", value,
                      f"a parameter of the space: {[p.name for p in params]}")
        return cls(name, model, params, overrides)

    @property
    def searched(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.searched)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{name!r} is not a parameter of {self.name}/{self.model}: {[p.name for p in self.params]}")

    def draw(self, rng: random.Random) -> dict[str, Any]:
        """One sample: every parameter, fixed ones included, drawn in sorted-name order."""
        return {p.name: p.draw(rng) for p in self.params}

    def defaults(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Trial 0: each parameter's value in the composed training config (the model's published default)."""
        values = {}
        for p in self.params:
            if p.name in self.default_overrides:
                values[p.name] = self.default_overrides[p.name]
            else:
                values[p.name] = get_path(config, p.path, f"the default of search parameter {p.name!r}")
        return values

    def outside(self, values: Mapping[str, Any]) -> list[str]:
        """Names of the parameters whose value the space could not have drawn."""
        return [p.name for p in self.params if not p.contains(values[p.name])]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "params": {p.name: p.to_dict() for p in self.params},
                "defaults_override": dict(self.default_overrides)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        return cls.from_config(data["name"], data["model"],
                               {"params": data["params"], "defaults_override": data.get("defaults_override") or {}})


def get_path(config: Mapping[str, Any], path: str, what: str) -> Any:
    node: Any = config
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"{path} is not in the training config ({what})")
        node = node[part]
    return node


def set_path(config: dict[str, Any], path: str, value: Any) -> None:
    """Set `path` in a nested dict; the parent must exist (a typo in a space must not invent config keys)."""
    *parents, last = path.split(".")
    node: Any = config
    for part in parents:
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{path} is not in the training config (search parameter path)")
        node = node[part]
    if not isinstance(node, dict):
        raise ConfigError(f"{path} is not in the training config (search parameter path)")
    node[last] = value
