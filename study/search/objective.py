"""What a trial is scored by: one metric value of the run, its best or its final evaluation, and a direction."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from gan_study.study.config import ConfigError

REDUCTIONS = ("best", "final")
DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True)
class Objective:
    metric: str
    """A value name a run reports (`fid`, `f1`, `fid_vgg16_fc7`...), i.e. a key of RunRecord.best/final."""
    reduce: str = "best"
    """`best`: the best evaluation of the run (the paper's code, §6.2); `final`: its last evaluation."""
    direction: str = "minimize"

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise ConfigError(f"objective.metric = {self.metric!r} is not allowed: a metric value name such as fid")
        if self.reduce not in REDUCTIONS:
            raise ConfigError(f"objective.reduce = {self.reduce!r} is not allowed: one of {list(REDUCTIONS)}")
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"objective.direction = {self.direction!r} is not allowed: one of {list(DIRECTIONS)}")

    @property
    def worst(self) -> float:
        """The value of a diverged run: it loses every comparison (+inf when minimising)."""
        return math.inf if self.direction == "minimize" else -math.inf

    @property
    def name(self) -> str:
        """The trial attribute holding the objective, e.g. `best_fid`."""
        return f"{self.reduce}_{self.metric}"

    def value(self, record: Mapping[str, Any]) -> float | None:
        """The objective of a finished run's record (record.json form), None when the run never measured it."""
        value = (record.get(self.reduce) or {}).get(self.metric)
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


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
    direction = spec.get("direction", "auto") or "auto"
    if metric not in directions:
        raise ConfigError(f"objective.metric = {metric!r} is not allowed: the runs compute {sorted(directions)} "
                          f"(eval.metrics = {sorted(eval_metrics)})")
    if direction == "auto":
        direction = directions[metric]
    return Objective(metric, spec.get("reduce", "best"), direction)
