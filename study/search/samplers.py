"""How a study picks its trials: `random` (the paper: a fixed list from the seed) or any Optuna sampler by name.

With `random` every trial is drawn before anything runs (gan_study.study.search.trial_list), so the list is a pure
function of the seed. Any other sampler is adaptive: the driver asks it for a trial whenever a worker is
free, so its trials depend on the order results arrive and are not reproducible under parallelism.
"""
from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, field
from typing import Any

import optuna

from gan_study.study.config import ConfigError

ALIASES = {"random": "RandomSampler", "tpe": "TPESampler", "cmaes": "CmaEsSampler", "gp": "GPSampler",
           "qmc": "QMCSampler", "nsgaii": "NSGAIISampler"}


@dataclass(frozen=True)
class SamplerSpec:
    name: str = "random"
    seed: int = 123
    """The paper's `random.seed(123)`; the seed of the trial list (not of training)."""
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"sampler.seed = {self.seed!r} is not allowed: an integer")
        sampler_class(self.name)

    @property
    def adaptive(self) -> bool:
        return sampler_class(self.name) is not optuna.samplers.RandomSampler

    def build(self) -> optuna.samplers.BaseSampler:
        """The Optuna sampler, seeded explicitly (Optuna's default sampler changed between versions)."""
        cls = sampler_class(self.name)
        kwargs = dict(self.options)
        if "seed" in inspect.signature(cls).parameters:
            kwargs.setdefault("seed", self.seed)
        try:
            return cls(**kwargs)
        except TypeError as error:
            raise ConfigError(f"sampler.options = {self.options!r} is not allowed for {cls.__name__}: "
                              f"{error}") from error

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sampler_class(name: str) -> type[optuna.samplers.BaseSampler]:
    classes = sorted(n for n in dir(optuna.samplers) if n.endswith("Sampler") and n != "BaseSampler")
    available = sorted(ALIASES) + classes
    cls = getattr(optuna.samplers, ALIASES.get(name, name), None) if isinstance(name, str) else None
    base = optuna.samplers.BaseSampler
    if not (isinstance(cls, type) and issubclass(cls, base)) or cls is base:
        raise ConfigError(f"sampler.name = {name!r} is not allowed: one of {available}")
    return cls
