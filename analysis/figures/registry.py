"""The one place a figure is added: `@register_figure("name", title=...)` on a drawing function.

A drawing function takes the `ReportInputs` (plus the fixed keyword arguments given at
registration) and returns a matplotlib Figure. When the data it needs are absent (no seed study,
no Triangles trials...) it raises `FigureSkipped` with the reason, which the report prints.
Built-in figures register themselves exactly as a user's figure does, in `FIGURES`, the shared `Registry`
(`models/registry.py`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import STYLE, metric_label
from gan_study.models.registry import Registry

DrawFunction = Callable[..., Figure | None]


class FigureSkipped(Exception):
    """The figure's data are absent; the message says which."""


def given_table(table: pd.DataFrame | None, what: str, option: str, written_by: str) -> pd.DataFrame:
    """A sanity experiment's table as the report was given it, or FigureSkipped saying which and what writes it."""
    if table is None or table.empty:
        raise FigureSkipped(f"no {what} table was given (report option {option}, written by {written_by})")
    return table


@dataclass(frozen=True)
class FigureSpec:
    """What a figure was registered with, besides its drawing function."""

    title: str
    caption: str = ""
    """May name {metric} and {budget}: filled from the report's options."""
    fixed: dict[str, Any] = field(default_factory=dict)


FIGURES: Registry[DrawFunction] = Registry("figure", "figures")


def register_figure(name: str, *, title: str, caption: str = "", **fixed: Any) -> Callable[[DrawFunction], DrawFunction]:
    """Register `draw` under `name`; `fixed` keyword arguments are passed on every call (one function, many figures)."""
    return FIGURES.register(name, FigureSpec(title, caption, dict(fixed)))


def available_figures() -> list[str]:
    """The registered figures in registration order (the report's order)."""
    return list(FIGURES)


def get_figure(name: str) -> FigureSpec:
    return FIGURES.info(name)


def draw_figure(name: str, inputs: ReportInputs) -> Figure:
    """Draw one registered figure in the project's style; raises FigureSkipped when its data are absent."""
    draw, spec = FIGURES.get(name), get_figure(name)
    with plt.rc_context(STYLE):
        figure = draw(inputs, **spec.fixed)
    if figure is None:
        raise FigureSkipped("the data it needs are absent")
    return figure


def caption(name: str, inputs: ReportInputs) -> str:
    spec = get_figure(name)
    return spec.caption.format(metric=metric_label(inputs.options.metric), budget=inputs.options.describe_budget())
