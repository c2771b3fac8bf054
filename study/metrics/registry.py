"""The one place a metric is added: `@register_metric("name")` on a `Metric` subclass.

`METRICS` is the shared `Registry` (`models/registry.py`): a name is taken once, and built-ins register
exactly as user code does.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from gan_study.models.registry import Registry
from gan_study.study.metrics.base import Metric

METRICS: Registry[type[Metric]] = Registry("metric", "eval.metrics", base=Metric)


def register_metric(name: str) -> Callable[[type[Metric]], type[Metric]]:
    """Class decorator: make `cls` available as `eval.metrics.<name>` in configs."""
    return METRICS.register(name)


def available_metrics() -> list[str]:
    return METRICS.available()


def get_metric(name: str) -> type[Metric]:
    return METRICS.get(name)


def build_metric(name: str, **options) -> Metric:
    """An instance of metric `name` configured by `options` (the config group eval.metrics.<name>)."""
    return METRICS.build(name, **options)


def build_run_metrics(metrics: Mapping[str, Mapping[str, Any]], batch_size: int) -> dict[str, Metric]:
    """A run's metrics (`eval.metrics`): `batch_size` (`eval.batch_size`) is the batch of each one's passes
    (encoder features, classifier inference, generation) unless its own options name one."""
    built = {}
    for name, options in metrics.items():
        takes_batch = "batch_size" in inspect.signature(get_metric(name)).parameters
        built[name] = build_metric(name, **({"batch_size": batch_size} if takes_batch else {}) | dict(options))
    return built
