"""A report folder: every figure (PNG + PDF), every table (CSV + Markdown), the tidy data, one HTML page."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import matplotlib.pyplot as plt

from gan_study.analysis.figures import FigureSkipped, available_figures, caption, draw_figure, get_figure
from gan_study.analysis.html import FigureEntry, render_page
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.provenance import collect, mask_credentials
from gan_study.analysis.style import save_figure
from gan_study.analysis.tables import Table, report_tables, write_table
from gan_study.analysis.statistics_tables import statistics_tables

log = logging.getLogger("gan_study.report")
PAGE = "report.html"


@dataclass
class ReportResult:
    folder: Path
    page: Path
    figures: dict[str, dict[str, Path]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)


def draw_all(inputs: ReportInputs, names: Sequence[str], folder: Path, result: ReportResult) -> list[FigureEntry]:
    entries = []
    started = time.perf_counter()
    for index, name in enumerate(names, 1):
        spec = get_figure(name)
        try:
            figure = draw_figure(name, inputs)
        except FigureSkipped as skipped:
            result.skipped[name] = str(skipped)
            log.info("figure %d/%d %s skipped: %s", index, len(names), name, skipped)
            continue
        try:
            paths = save_figure(figure, folder, name)
        finally:
            plt.close(figure)
        result.figures[name] = paths
        entries.append(FigureEntry(name, spec.title, caption(name, inputs), paths["png"], paths["pdf"]))
        elapsed = time.perf_counter() - started
        log.info("figure %d/%d %s drawn (%.1f s so far, ~%.0f s left)", index, len(names), name, elapsed,
                 elapsed / index * (len(names) - index))
    return entries


def build_report(inputs: ReportInputs, out: str | Path, figures: Sequence[str] | None = None,
                 report_config: str = "", runs_root: Path | None = None) -> ReportResult:
    """Write the report folder; figure names are checked before anything is drawn."""
    names = list(figures) if figures is not None else available_figures()
    for name in names:
        get_figure(name)  # a clear error for an unknown name, before any work
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    result = ReportResult(folder, folder / PAGE)
    entries = draw_all(inputs, names, folder / "figures", result)
    result.tables = report_tables(inputs) + statistics_tables(inputs)
    for table in result.tables:
        write_table(table, folder / "tables")
    curves = inputs.budget_curves()
    if not curves.empty:
        curves.to_csv(folder / "tables" / "budget_curves.csv", index=False)
    every_verdict = inputs.all_verdicts()
    if not every_verdict.empty:
        every_verdict.to_csv(folder / "tables" / "verdicts_all_budgets.csv", index=False)
    data = folder / "data"
    data.mkdir(exist_ok=True)
    from gan_study.study.search.results import write_parquet  # the exporter's own writer (it imports optuna)

    for name, table in (("trials", inputs.tables.trials), ("evaluations", inputs.tables.evaluations)):
        table.to_csv(data / f"{name}.csv", index=False)
        write_parquet(table, data / f"{name}.parquet")  # pandas users: pd.read_parquet keeps the types
    provenance = collect(inputs.tables, runs_root)
    studies = ", ".join(inputs.tables.studies)
    subtitle = (f"Studies: {studies}. {len(inputs.tables.trials)} trials. Score: {inputs.options.score}_"
                f"{inputs.options.metric}. Budget statistics: {inputs.options.describe_budget()}. Generated "
                f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.")
    page = render_page(f"gan-study report: {studies}", subtitle, entries, result.skipped, result.tables,
                       provenance, mask_credentials(report_config), folder)
    result.page.write_text(page, encoding="utf-8")
    log.info("report written to %s (%d figures, %d skipped, %d tables)", result.page, len(result.figures),
             len(result.skipped), len(result.tables))
    return result
