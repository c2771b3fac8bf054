"""The one place a metric is added: `@register_metric("name")` on a `Metric` subclass."""
from __future__ import annotations

from typing import Callable

from study.metrics.base import Metric

_METRICS: dict[str, type[Metric]] = {}


def register_metric(name: str) -> Callable[[type[Metric]], type[Metric]]:
    """Class decorator: make `cls` available as `eval.metrics.<name>` in configs."""

    def add(cls: type[Metric]) -> type[Metric]:
        if not isinstance(cls, type) or not issubclass(cls, Metric):
            raise TypeError(f"register_metric({name!r}) needs a subclass of study.metrics.Metric, got {cls!r}")
        if name in _METRICS and _METRICS[name] is not cls:
            raise ValueError(f"metric {name!r} is already registered by {_METRICS[name].__qualname__}")
        cls.name = name
        _METRICS[name] = cls
        return cls

    return add


def available_metrics() -> list[str]:
    return sorted(_METRICS)


def get_metric(name: str) -> type[Metric]:
    try:
        return _METRICS[name]
    except KeyError:
        raise KeyError(f"eval.metrics: unknown metric {name!r}; allowed: {available_metrics()}") from None


def build_metric(name: str, **options) -> Metric:
    """An instance of metric `name` configured by `options` (the config group eval.metrics.<name>)."""
    return get_metric(name)(**options)
