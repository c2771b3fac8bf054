"""The one registry mechanism: a name maps to an entry, taken once, refused with the field, value and allowed names.

Every registry of the project is one `Registry`: losses, metrics, measures, encoders, data sets, figures and
executors. It lives in `models/`, the lowest layer, because the loss registry is in `models/` and `models/` may
import neither `study/` nor `launch/`; every layer above builds its registries from this class.

An entry is a class (a subclass of `base`, named `cls.name` on registration), a function (`base=None`), or a
"module:attr" path imported only when its name is asked for, so choosing a name never imports the others'
dependencies (SLURM's `submitit` stays out of a local run). An entry may carry facts about it (`info`: a data
set's shapes, a figure's title) that are read without calling it.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Generic, Iterator, NamedTuple, TypeVar

from gan_study.models.checks import ConfigError

T = TypeVar("T")


class UnknownName(ConfigError, KeyError):
    """A name nothing is registered under: a `ConfigError` (a `ValueError`), and the `KeyError` of a lookup."""

    __str__ = ConfigError.__str__  # the message as written, not KeyError's quoted repr of it


class Entry(NamedTuple):
    target: Any
    """The class or function, or its "module:attr" path until asked for."""
    info: Any = None


class Registry(Generic[T]):
    """Named entries of one `kind`; `field` is the config field that names them (e.g. "eval.metrics")."""

    def __init__(self, kind: str, field: str, base: type | None = None):
        self.kind, self.field, self.base = kind, field, base
        self.entries: dict[str, Entry] = {}

    def register(self, name: str, info: Any = None) -> Callable[[T], T]:
        """Decorator: `add(name, decorated, info)`; the name is checked at once, before anything is decorated."""
        self._check_name(name)

        def decorate(target: T) -> T:
            self.add(name, target, info)
            return target

        return decorate

    def add(self, name: str, target: T | str, info: Any = None) -> None:
        """Register `target` (or its "module:attr" path) as `name`; the same registration again changes nothing."""
        self._check_name(name)
        if isinstance(target, str):
            if target.count(":") != 1:
                raise ValueError(f"register_{self.kind}({name!r}, {target!r}): the path must be 'module:attr'")
        else:
            self._check_target(name, target)
        entry, taken = Entry(target, info), self.entries.get(name)
        if taken is not None and taken != entry:
            raise ValueError(f"{self.kind} {name!r} is already registered by {_origin(taken.target)}; "
                             "choose another name")
        if self.base is not None and not isinstance(target, str):
            target.name = name
        self.entries[name] = entry

    def get(self, name: str) -> T:
        """The entry registered as `name`, imported now if it was registered by path."""
        target = self._entry(name).target
        if isinstance(target, str):
            module, attribute = target.split(":")
            target = getattr(importlib.import_module(module), attribute)
            self._check_target(name, target)
        return target

    def info(self, name: str) -> Any:
        """What `name` was registered with (no import)."""
        return self._entry(name).info

    def build(self, name: str, **options: Any):
        """An instance of the class registered as `name`, configured by `options`."""
        return self.get(name)(**options)

    def available(self) -> list[str]:
        """The registered names, sorted (for messages and listings)."""
        return sorted(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        """The names in registration order."""
        return iter(self.entries)

    def _entry(self, name: str) -> Entry:
        if name not in self.entries:
            raise UnknownName(f"{self.field} = {name!r} is not allowed: one of {self.available()}")
        return self.entries[name]

    def _check_name(self, name: Any) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{self.kind} name {name!r} is not allowed; allowed: a non-empty identifier "
                             "(letters, digits and underscores, not starting with a digit)")

    def _check_target(self, name: str, target: Any) -> None:
        if self.base is None:
            if not callable(target):
                raise TypeError(f"register_{self.kind}({name!r}) got {target!r}; allowed: a callable")
        elif not (isinstance(target, type) and issubclass(target, self.base)):
            raise TypeError(f"register_{self.kind}({name!r}) got {target!r}; allowed: a subclass of "
                            f"{_origin(self.base)}")


def _origin(target: Any) -> str:
    """`package.module.Name` of a class or function; a path as given."""
    return target if isinstance(target, str) else f"{target.__module__}.{target.__qualname__}"
