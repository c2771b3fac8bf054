"""The one place a metric is added: `@register_metric("name")` on a `Metric` subclass.

`METRICS` is the shared `Registry` (`models/registry.py`): a name is taken once, and built-ins register
exactly as user code does.
"""
from __future__ import annotations

from typing import Callable

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
