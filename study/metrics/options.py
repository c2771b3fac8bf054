"""Validation of metric options (eval.metrics.<name>): a bad value is named with what is allowed, before any compute."""
from __future__ import annotations

import math
from typing import Any


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def positive_number(name: str, value: Any) -> float:
    if not is_number(value) or value <= 0:
        raise ValueError(f"{name} = {value!r} is not allowed: a positive number")
    return float(value)


def positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} = {value!r} is not allowed: an integer >= {minimum}")
    return value


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} = {value!r} is not allowed: true or false")
    return value
