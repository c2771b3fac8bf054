"""Checks for loss hyperparameters: a bad value stops with the loss, the field, the value and what is allowed."""
from __future__ import annotations

import math
from typing import Any


def _refuse(loss: str, field: str, value: Any, allowed: str) -> None:
    raise ValueError(f"{loss}: {field} = {value!r} is not allowed; allowed: {allowed}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def positive(loss: str, field: str, value: Any) -> float:
    if not (_is_number(value) and value > 0):
        _refuse(loss, field, value, "a finite number > 0")
    return float(value)


def non_negative(loss: str, field: str, value: Any) -> float:
    if not (_is_number(value) and value >= 0):
        _refuse(loss, field, value, "a finite number >= 0")
    return float(value)


def unit_interval(loss: str, field: str, value: Any) -> float:
    if not (_is_number(value) and 0 <= value <= 1):
        _refuse(loss, field, value, "a number in [0, 1]")
    return float(value)


def choice(loss: str, field: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        _refuse(loss, field, value, f"one of {', '.join(map(repr, options))}")
    return value


def flag(loss: str, field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        _refuse(loss, field, value, "true or false")
    return value
