"""Checks for loss hyperparameters (the plugin API of docs/adding_a_loss.md): the checks of `models/checks.py`
with the loss's name in front of the field, so a bad value stops with the loss, the field, the value and what is
allowed (`hinge: margin = -1 is not allowed: a finite number > 0`)."""
from __future__ import annotations

from typing import Any

from gan_study.models import checks


def positive(loss: str, field: str, value: Any) -> float:
    return checks.positive(f"{loss}: {field}", value)


def non_negative(loss: str, field: str, value: Any) -> float:
    return checks.at_least(f"{loss}: {field}", value, 0)


def unit_interval(loss: str, field: str, value: Any) -> float:
    return checks.unit_interval(f"{loss}: {field}", value)


def choice(loss: str, field: str, value: Any, options: tuple[str, ...]) -> str:
    return checks.choice(f"{loss}: {field}", value, options)


def flag(loss: str, field: str, value: Any) -> bool:
    return checks.flag(f"{loss}: {field}", value)
