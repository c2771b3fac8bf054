"""The one vocabulary of value checks: a bad value stops with a `ConfigError` naming the field, the value and
what is allowed, as `<field> = <value!r> is not allowed: <allowed>`.

It lives in `models/`, the lowest layer, because networks and loss hyperparameters check values too and
`models/` may import neither `study/` nor `launch/`; every layer above imports the same checks from here.
`ConfigError` is defined here for the same reason (`gan_study.study.config.ConfigError` is this class); it is a
`ValueError`, so code that catches a network's or a loss's `ValueError` still does.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Collection, NoReturn, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A config value that cannot be run: the message names the field, the value and what is allowed."""


def refuse(field: str, value: Any, allowed: str) -> NoReturn:
    raise ConfigError(f"{field} = {value!r} is not allowed: {allowed}")


def check(ok: bool, field: str, value: Any, allowed: str) -> None:
    """`refuse` unless `ok`: the check for a rule the named checks below do not cover."""
    if not ok:
        refuse(field, value, allowed)


def is_integer(value: Any) -> bool:
    """An int, not a bool (YAML's true is an int to Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_text(value: Any) -> bool:
    """A string with something in it besides spaces."""
    return isinstance(value, str) and value.strip() != ""


def integer(field: str, value: Any, minimum: int, maximum: int | None = None, optional: bool = False) -> int | None:
    """An integer in [minimum, maximum] (no upper bound when maximum is None); None too when `optional`."""
    if value is None and optional:
        return None
    check(is_integer(value) and value >= minimum and (maximum is None or value <= maximum), field, value,
          (f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]")
          + (" or null" if optional else ""))
    return value


def number(field: str, value: Any, accept: Callable[[float], bool], allowed: str) -> float:
    """A finite number that `accept` takes, as a float; `allowed` says in words what `accept` takes."""
    check(is_number(value) and accept(float(value)), field, value, allowed)
    return float(value)


def positive(field: str, value: Any) -> float:
    """A finite number > 0, as a float."""
    return number(field, value, lambda v: v > 0, "a finite number > 0")


def at_least(field: str, value: Any, minimum: float) -> float:
    """A finite number >= minimum, as a float."""
    return number(field, value, lambda v: v >= minimum, f"a finite number >= {minimum}")


def unit_interval(field: str, value: Any) -> float:
    """A number in [0, 1], as a float."""
    return number(field, value, lambda v: 0 <= v <= 1, "a number in [0, 1]")


def flag(field: str, value: Any) -> bool:
    """True or false, nothing that merely converts to one."""
    check(isinstance(value, bool), field, value, "true or false")
    return value


def choice(field: str, value: T, options: Collection) -> T:
    """One of `options`."""
    check(value in options, field, value, f"one of {list(options)}")
    return value
