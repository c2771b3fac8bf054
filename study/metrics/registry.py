"""The one place a metric is added: `@register_metric("name")` on a `Metric` subclass.

`Registry` is the shared mechanism (metrics here, feature extractors in `encoders/base.py`): names map to
subclasses of one base, a name is taken once, and built-ins register exactly as user code does.
"""
from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from gan_study.study.metrics.base import Metric

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """Named subclasses of `base`; `kind` and `field` name them in error messages (e.g. "eval.metrics")."""

    def __init__(self, base: T, kind: str, field: str):
        self.base, self.kind, self.field = base, kind, field
        self.entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(cls: T) -> T:
            if not isinstance(cls, type) or not issubclass(cls, self.base):
                raise TypeError(f"register_{self.kind}({name!r}) needs a subclass of "
                                f"{self.base.__module__}.{self.base.__qualname__}, got {cls!r}")
            if name in self.entries and self.entries[name] is not cls:
                raise ValueError(f"{self.kind} {name!r} is already registered by {self.entries[name].__qualname__}")
            cls.name = name
            self.entries[name] = cls
            return cls

        return add

    def available(self) -> list[str]:
        return sorted(self.entries)

    def get(self, name: str) -> T:
        try:
            return self.entries[name]
        except KeyError:
            raise KeyError(f"{self.field}: unknown {self.kind} {name!r}; allowed: {self.available()}") from None

    def build(self, name: str, **options: Any):
        return self.get(name)(**options)


METRICS: Registry[type[Metric]] = Registry(Metric, "metric", "eval.metrics")


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
