"""One self-contained HTML page: figures embedded as base64 PNG, tables, provenance; no external reference."""
from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gan_study.analysis.provenance import Provenance
from gan_study.analysis.tables import Table

REASON_CHARS = 200
DISPLAY_SCALE = 0.6
"""Page pixels per PNG pixel: figures are saved at 150 dpi; 0.6 shows them at about 90 dpi."""
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1400px;
       padding: 0 1.5em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em;
     margin-top: 2em; } h3 { margin-bottom: 0.3em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92em; max-width: 75em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; } td:nth-child(-n+3) { text-align: left; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; max-height: 30em; }
.note { color: #555; font-size: 0.9em; max-width: 75em; } .meta { color: #666; }
.skipped li { color: #7a4b00; } nav a { margin-right: 1em; }
"""


@dataclass(frozen=True)
class FigureEntry:
    name: str
    title: str
    caption: str
    png: Path
    pdf: Path


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def image_tag(png: Path, alt: str) -> str:
    """The PNG inline, shown at DISPLAY_SCALE of its pixel width so every figure's text has the same size."""
    data = png.read_bytes()
    width = int.from_bytes(data[16:20], "big")  # PNG IHDR: the width follows the 8-byte signature and chunk header
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{escape(alt)}" width="{round(width * DISPLAY_SCALE)}">'


def frame_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, escape=True, na_rep="–")


def figure_section(entry: FigureEntry, folder: Path) -> str:
    pdf = entry.pdf.relative_to(folder).as_posix()
    return (f'<figure id="{escape(entry.name)}"><h3>{escape(entry.title)}</h3>{image_tag(entry.png, entry.title)}'
            f'<figcaption>{escape(entry.caption)} <a href="{escape(pdf)}">PDF</a></figcaption></figure>')


def table_section(table: Table) -> str:
    return (f'<section id="table-{escape(table.name)}"><h3>{escape(table.title)}</h3>{frame_html(table.display)}'
            f'<p class="note">{escape(table.note)} Files: <a href="tables/{escape(table.name)}.csv">CSV</a>, '
            f'<a href="tables/{escape(table.name)}.md">Markdown</a>.</p></section>')


def details(summary: str, body: str) -> str:
    return f"<details><summary>{escape(summary)}</summary><pre>{escape(body)}</pre></details>"


def trials_section(provenance: Provenance) -> str:
    listed = provenance.unmeasured.copy()
    if listed.empty:
        return "<p>Every trial completed.</p>"
    listed["reason"] = listed["reason"].map(
        lambda r: "" if r is None or r != r else (str(r) if len(str(r)) <= REASON_CHARS
                                                   else str(r)[:REASON_CHARS] + " …"))
    return ("<p>Diverged trials count as the worst score in the budget statistics; failed, running and waiting "
            "trials were not measured and are not in any statistic.</p>" + frame_html(listed))


def hardware_html(hardware: pd.DataFrame) -> str:
    """The machines the trials ran on: scores are reproducible on the same kind of machine only."""
    if hardware.empty:
        return "<p class='meta'>No run record names its hardware (runs made before gan-study recorded it).</p>"
    note = ("All trials ran on one kind of machine." if len(hardware) == 1 else
            f"The trials ran on {len(hardware)} kinds of machine. Training is deterministic on one kind only: another "
            "CPU (family, model, kernel flags), kernel library, thread count or accelerator rounds differently, and "
            "training amplifies it, so a trial re-run on another kind gives another score.")
    return frame_html(hardware) + f"<p class='meta'>{escape(note)}</p>"


def provenance_section(provenance: Provenance, report_config: str) -> str:
    parts = ["<h3>Sources</h3>", frame_html(pd.DataFrame(provenance.sources)),
             "<h3>Software</h3>", frame_html(pd.DataFrame(list(provenance.versions.items()),
                                                          columns=["package", "version"])),
             "<h3>Hardware</h3>", hardware_html(provenance.hardware),
             f"<p class='meta'>Run folders read: {provenance.runs_found}; not found: {provenance.runs_missing} "
             "(set runs_root when run_dir paths are relative to another folder).</p>",
             "<h3>Metric cards</h3>"]
    parts += [details(name, json.dumps(card, indent=2, default=str)) for name, card in provenance.metric_cards.items()]
    if not provenance.metric_cards:
        parts.append("<p class='meta'>No run record with metric cards was found.</p>")
    parts.append("<h3>Run configurations</h3>")
    parts += [details(name, text) for name, text in provenance.configs.items()]
    if not provenance.configs:
        parts.append("<p class='meta'>No run folder with a config.yaml was found.</p>")
    parts += ["<h3>Report configuration</h3>", f"<pre>{escape(report_config)}</pre>"]
    return "\n".join(parts)


def render_page(title: str, subtitle: str, figures: list[FigureEntry], skipped: dict[str, str],
                tables: list[Table], provenance: Provenance, report_config: str, folder: Path) -> str:
    nav = " ".join(f'<a href="#{escape(f.name)}">{escape(f.title)}</a>' for f in figures)
    skipped_html = ("<ul class='skipped'>" + "".join(f"<li><b>{escape(n)}</b>: {escape(r)}</li>"
                                                     for n, r in skipped.items()) + "</ul>") if skipped else ""
    body = [f"<h1>{escape(title)}</h1>", f"<p class='meta'>{escape(subtitle)}</p>", f"<nav>{nav}</nav>",
            "<h2>Trials</h2>", frame_html(provenance.counts),
            "<h2>Figures</h2>", *(figure_section(f, folder) for f in figures)]
    if skipped:
        body += ["<h3>Figures not drawn</h3>", skipped_html]
    body += ["<h2>Tables</h2>", *(table_section(t) for t in tables),
             "<h2>Diverged and unmeasured trials</h2>", trials_section(provenance),
             "<h2>Provenance</h2>", provenance_section(provenance, report_config)]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
