"""The one place a figure is added: `@register_figure("name", title=...)` on a drawing function.

A drawing function takes the `ReportInputs` (plus the fixed keyword arguments given at
registration) and returns a matplotlib Figure. When the data it needs are absent (no seed study,
no Triangles trials...) it raises `FigureSkipped` with the reason, which the report prints.
Built-in figures register themselves exactly as a user's figure does.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import STYLE, metric_label

DrawFunction = Callable[..., Figure | None]


class FigureSkipped(Exception):
    """The figure's data are absent; the message says which."""


@dataclass(frozen=True)
class FigureSpec:
    name: str
    draw: DrawFunction
    title: str
    caption: str = ""
    """May name {metric} and {budget}: filled from the report's options."""
    fixed: dict[str, Any] = field(default_factory=dict)


_FIGURES: dict[str, FigureSpec] = {}


def register_figure(name: str, *, title: str, caption: str = "", **fixed: Any) -> Callable[[DrawFunction], DrawFunction]:
    """Register `draw` under `name`; `fixed` keyword arguments are passed on every call (one function, many figures)."""
    if not name.isidentifier():
        raise ValueError(f"figure name {name!r}: use letters, digits and underscores (it names files)")

    def decorator(draw: DrawFunction) -> DrawFunction:
        if not callable(draw):
            raise TypeError(f"figure {name!r}: {draw!r} is not callable")
        if name in _FIGURES and _FIGURES[name].draw is not draw:
            raise ValueError(f"figure {name!r} is already registered by {_FIGURES[name].draw.__module__}")
        _FIGURES[name] = FigureSpec(name, draw, title, caption, dict(fixed))
        return draw

    return decorator


def available_figures() -> list[str]:
    return list(_FIGURES)


def get_figure(name: str) -> FigureSpec:
    if name not in _FIGURES:
        raise ValueError(f"figure {name!r} is not registered; available: {available_figures()}")
    return _FIGURES[name]


def draw_figure(name: str, inputs: ReportInputs) -> Figure:
    """Draw one registered figure in the project's style; raises FigureSkipped when its data are absent."""
    spec = get_figure(name)
    with plt.rc_context(STYLE):
        figure = spec.draw(inputs, **spec.fixed)
    if figure is None:
        raise FigureSkipped("the data it needs are absent")
    return figure


def caption(name: str, inputs: ReportInputs) -> str:
    spec = get_figure(name)
    return spec.caption.format(metric=metric_label(inputs.options.metric), budget=inputs.options.describe_budget())
