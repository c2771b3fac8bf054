"""What a trial is scored by: one metric value of the run, its best or its final evaluation, and a direction.

A diverged run is scored as the paper's code scores it (docs/protocol.md#run-score; `diverged: keep`): every
evaluation made before the divergence counts, and the divergence itself is one more evaluation with the
worst value. Its `best` is then its best finite evaluation (the worst value when it had none) and its
`final` is the worst value. `diverged: worst` is the strict rule: a diverged run loses, whatever it measured.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from gan_study.study.config import ConfigError

REDUCTIONS = ("best", "final")
DIRECTIONS = ("minimize", "maximize")
DIVERGED_RULES = ("keep", "worst")


@dataclass(frozen=True)
class Objective:
    metric: str
    """A value name a run reports (`fid`, `f1`, `fid_vgg16_fc7`...), i.e. a key of RunRecord.best/final."""
    reduce: str = "best"
    """`best`: the best evaluation of the run (the paper's code, docs/protocol.md#run-score); `final`: its last evaluation."""
    direction: str = "minimize"
    diverged: str = "keep"
    """`keep`: a diverged run keeps the evaluations it made before diverging (the paper); `worst`: it scores ±inf."""

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise ConfigError(f"objective.metric = {self.metric!r} is not allowed: a metric value name such as fid")
        if self.reduce not in REDUCTIONS:
            raise ConfigError(f"objective.reduce = {self.reduce!r} is not allowed: one of {list(REDUCTIONS)}")
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"objective.direction = {self.direction!r} is not allowed: one of {list(DIRECTIONS)}")
        if self.diverged not in DIVERGED_RULES:
            raise ConfigError(f"objective.diverged = {self.diverged!r} is not allowed: one of {list(DIVERGED_RULES)}")

    @property
    def worst(self) -> float:
        """The value of a divergence: it loses every comparison (+inf when minimising)."""
        return math.inf if self.direction == "minimize" else -math.inf

    @property
    def name(self) -> str:
        """The trial attribute holding the objective, e.g. `best_fid`."""
        return f"{self.reduce}_{self.metric}"

    def value(self, record: Mapping[str, Any]) -> float | None:
        """The objective of a finished run's record (record.json form), None when the run never measured it."""
        value = (record.get(self.reduce) or {}).get(self.metric)
        return None if value is None else float(value)

    def diverged_value(self, record: Mapping[str, Any]) -> float:
        """The objective of a diverged run's record: see the module docstring."""
        if self.diverged == "worst" or self.reduce == "final":
            return self.worst
        value = self.value(record)
        return value if value is not None and math.isfinite(value) else self.worst

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def stored(cls, spec: Mapping[str, Any]) -> Objective:
        """The objective a study was created with; studies made before the `diverged` rule existed scored
        diverged runs ±inf, so that is the rule their stored values follow."""
        return cls(**{"diverged": "worst", **spec})


def metric_directions(eval_metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Value name -> direction for the metrics a training config evaluates (imports the metric registry)."""
    from gan_study.study.metrics import build_metric

    directions: dict[str, str] = {}
    for name, options in eval_metrics.items():
        directions.update(build_metric(name, **dict(options or {})).objectives)
    return directions


def resolve_objective(spec: Mapping[str, Any], eval_metrics: Mapping[str, Mapping[str, Any]]) -> Objective:
    """The objective of a sweep config; the metric must be one the runs compute (checked before any compute)."""
    metric = spec.get("metric")
    directions = metric_directions(eval_metrics)
    direction = spec.get("direction", "auto")
    direction = "auto" if direction is None else direction
    if metric not in directions:
        raise ConfigError(f"objective.metric = {metric!r} is not allowed: the runs compute {sorted(directions)} "
                          f"(eval.metrics = {sorted(eval_metrics)})")
    if direction == "auto":
        direction = directions[metric]
    return Objective(metric, spec.get("reduce", "best"), direction, spec.get("diverged", "keep"))
