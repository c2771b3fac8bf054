"""How a study picks its trials: `random` (the paper: a fixed list from the seed) or any Optuna sampler by name.

With `random` every trial is drawn before anything runs (gan_study.study.search.trial_list), so the list is a pure
function of the seed. Any other sampler is adaptive: the driver asks it for a trial whenever a worker is
free, so its trials depend on the order results arrive and are not reproducible under parallelism.

An adaptive study may also prune (`pruner.name`: median, successive_halving, hyperband, or any class of
`optuna.pruners`): after each evaluation the worker asks the pruner about the intermediate values already
reported (the objective metric at each evaluation) and stops a trial that is clearly behind. The paper's
random search prunes nothing, so a pruner with `sampler.name=random` is refused.
"""
from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, field
from typing import Any

import optuna

from gan_study.study.config import ConfigError

ALIASES = {"random": "RandomSampler", "tpe": "TPESampler", "cmaes": "CmaEsSampler", "gp": "GPSampler",
           "qmc": "QMCSampler", "nsgaii": "NSGAIISampler"}
PRUNER_ALIASES = {"none": "NopPruner", "median": "MedianPruner", "percentile": "PercentilePruner",
                  "successive_halving": "SuccessiveHalvingPruner", "hyperband": "HyperbandPruner",
                  "threshold": "ThresholdPruner", "patient": "PatientPruner", "wilcoxon": "WilcoxonPruner"}


@dataclass(frozen=True)
class SamplerSpec:
    name: str = "random"
    seed: int = 123
    """The paper's `random.seed(123)`; the seed of the trial list (not of training)."""
    options: dict[str, Any] = field(default_factory=dict)
    pruner: dict[str, Any] | None = None
    """`{name, options}` of an Optuna pruner (adaptive samplers only); None: nothing is pruned (the paper)."""

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"sampler.seed = {self.seed!r} is not allowed: an integer")
        sampler_class(self.name)
        if self.pruner is not None:
            if pruner_class(self.pruner.get("name")) is optuna.pruners.NopPruner:
                object.__setattr__(self, "pruner", None)  # `none` is stored as no pruner at all
            elif not self.adaptive:
                raise ConfigError(f"pruner.name = {self.pruner['name']!r} is not allowed with sampler.name = "
                                  f"{self.name!r}: the paper's random search prunes nothing; prune with an adaptive "
                                  "sampler (sampler.name=tpe, ...) or set pruner.name=none")
            else:
                self.build_pruner()

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

    def build_pruner(self) -> optuna.pruners.BasePruner | None:
        if self.pruner is None:
            return None
        cls = pruner_class(self.pruner.get("name"))
        options = dict(self.pruner.get("options") or {})
        try:
            return cls(**options)
        except TypeError as error:
            raise ConfigError(f"pruner.options = {options!r} is not allowed for {cls.__name__}: {error}") from error

    def to_dict(self) -> dict[str, Any]:
        """As stored with the study; a study without a pruner stores no `pruner` key (as before pruners existed)."""
        data = asdict(self)
        if self.pruner is None:
            data.pop("pruner")
        return data


def pruner_class(name: Any) -> type[optuna.pruners.BasePruner]:
    classes = sorted(n for n in dir(optuna.pruners) if n.endswith("Pruner") and n != "BasePruner")
    cls = getattr(optuna.pruners, PRUNER_ALIASES.get(name, name), None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, optuna.pruners.BasePruner)) or cls is optuna.pruners.BasePruner:
        raise ConfigError(f"pruner.name = {name!r} is not allowed: one of {sorted(PRUNER_ALIASES) + classes}")
    return cls


def sampler_class(name: str) -> type[optuna.samplers.BaseSampler]:
    classes = sorted(n for n in dir(optuna.samplers) if n.endswith("Sampler") and n != "BaseSampler")
    available = sorted(ALIASES) + classes
    cls = getattr(optuna.samplers, ALIASES.get(name, name), None) if isinstance(name, str) else None
    base = optuna.samplers.BaseSampler
    if not (isinstance(cls, type) and issubclass(cls, base)) or cls is base:
        raise ConfigError(f"sampler.name = {name!r} is not allowed: one of {available}")
    return cls
