"""The report's tables: raw numbers for CSV, formatted cells for Markdown and HTML.

* `search_summary`: per data set, search and model: counts by status, best, median and default score;
* `expected_best_table`: the exact expected best score at a few budgets (no resampling noise);
* `seed_table`: the paper's best-score table, mean ± sd over seeds of one configuration per model;
* `bias_variance_table`: FID between real sample sets, with the paper's verified values beside ours;
* `shmelkov_table`: Shmelkov et al.'s (ECCV 2018) table, IS, FID-5K, FID, GAN-train, GAN-test, SWD of each model's best trial.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.paper import BEST_FID_SOURCE, BEST_FID_UNVERIFIED, FID_BIAS_VARIANCE, FID_BIAS_VARIANCE_SOURCE
from gan_study.analysis.sanity import bias_variance_summary
from gan_study.analysis.scores import GROUP, ScoreSpec, trial_scores
from gan_study.analysis.style import dataset_label, metric_label, model_label, ordered_datasets, ordered_models

BUDGETS_SHOWN = (1, 5, 10, 20, 50, 100)
SHMELKOV_COLUMNS = {"is": "IS", "fid_5k": "FID-5K", "fid": "FID", "gan_train": "GAN-train", "gan_test": "GAN-test",
                    "swd_16": "SWD 16", "swd_32": "SWD 32"}
"""Shmelkov et al., "How good is my GAN?", Tables 2-4: value name -> column title."""
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    frame: pd.DataFrame
    """Raw values (the CSV)."""
    display: pd.DataFrame
    """Formatted cells (Markdown and HTML)."""
    note: str = ""


def format_number(value: object, digits: int = 4) -> str:
    """`digits` significant digits; a zero reads 0, never -0 (negated maximised scores come back as -0.0)."""
    if isinstance(value, (float, np.floating)):
        value = value + 0.0
        if math.isnan(value):
            return "–"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:.{digits}g}"
    return str(value)


def mean_sd(mean: float, sd: float) -> str:
    if math.isnan(mean):
        return "–"
    mean, sd = mean + 0.0, sd + 0.0  # -0.0 + 0.0 is 0.0: never "-0"
    return f"{mean:.3g} ± {sd:.2g}" if not math.isnan(sd) else f"{mean:.3g}"


def sort_groups(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in the paper's data set and model order (new names after)."""
    ranks: dict[str, Callable] = {"dataset": ordered_datasets, "model": ordered_models}
    order = {k: {name: i for i, name in enumerate(ranks[k](frame[k]))} for k in keys if k in ranks}
    return frame.sort_values(keys, key=lambda col: col.map(order[col.name]) if col.name in order else col,
                             kind="stable").reset_index(drop=True)


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Display names for the model and data set columns."""
    shown = frame.copy()
    if "model" in shown:
        shown["model"] = shown["model"].map(model_label)
    if "dataset" in shown:
        shown["dataset"] = shown["dataset"].map(dataset_label)
    return shown


def search_summary(inputs: ReportInputs, spec: ScoreSpec) -> Table:
    trials = inputs.tables.trials
    trials = trials[~trials["seed_study"]].assign(score=lambda t: trial_scores(t, spec))
    rows = []
    for (dataset, search, model), group in trials.groupby(GROUP, sort=False):
        finite = group.loc[np.isfinite(group["score"])]
        default = group.loc[group["is_default"], "score"]
        best = finite.loc[finite["score"].idxmin() if spec.minimize else finite["score"].idxmax()] if len(finite) else None
        rows.append({"dataset": dataset, "search": search, "model": model, "trials": len(group),
                     "completed": int((group["status"] == "completed").sum()),
                     "diverged": int((group["status"] == "diverged").sum()),
                     "not_measured": int((~group["measured"]).sum()),
                     "best": best["score"] if best is not None else np.nan,
                     "best_trial": int(best["trial"]) if best is not None else -1,
                     "median": finite["score"].median(), "default": default.iloc[0] if len(default) else np.nan})
    frame = sort_groups(pd.DataFrame(rows), GROUP) if rows else pd.DataFrame(rows)
    display = labelled(frame).map(format_number) if rows else frame
    note = (f"{metric_label(spec.metric)} ({spec.column}) per search; not_measured = failed, running or waiting "
            "trials (not in the statistics); diverged trials score their best evaluation before diverging (the "
            "paper's rule) unless their study's objective.diverged is worst; median over the finite scores.")
    return Table("search_summary", "Trials and scores per search", frame, display, note)


def expected_best_table(inputs: ReportInputs, spec: ScoreSpec) -> Table:
    rows = []
    for search in sorted(set(inputs.tables.trials.loc[~inputs.tables.trials["seed_study"], "search"])):
        curves = inputs.budget(spec, search)
        shown = curves[curves["k"].isin(BUDGETS_SHOWN) | (curves["k"] == curves["n_trials"])]
        for (dataset, model), group in shown.groupby(["dataset", "model"], sort=False):
            row = {"dataset": dataset, "search": search, "model": model, "n": int(group["n_trials"].iloc[0])}
            row |= {f"k={k}": v for k, v in zip(group["k"], group["exact_mean"])}
            rows.append(row)
    frame = sort_groups(pd.DataFrame(rows), GROUP) if rows else pd.DataFrame(rows)
    display = labelled(frame).map(format_number) if rows else frame
    note = (f"Exact expected best {metric_label(spec.metric)} among k trials drawn "
            f"{'with' if inputs.options.budget.replace else 'without'} replacement from each search's trials "
            "(order statistics, no resampling noise), given at least one trial with a finite score.")
    return Table("expected_best", "Expected best score at budget k", frame, display, note)


def seed_table(inputs: ReportInputs, spec: ScoreSpec) -> Table | None:
    trials = inputs.tables.trials
    seeds = trials[trials["seed_study"]].assign(score=lambda t: trial_scores(t, spec))
    if seeds.empty:
        return None
    rows = []
    for (dataset, model), group in seeds.groupby(["dataset", "model"], sort=False):
        measured = group.loc[np.isfinite(group["score"]), "score"]
        rows.append({"dataset": dataset, "model": model, "seeds": len(group), "measured": len(measured),
                     "diverged": int((group["status"] == "diverged").sum()),
                     "not_measured": int((~group["measured"]).sum()),
                     "mean": measured.mean(), "sd": measured.std(ddof=1)})
    frame = sort_groups(pd.DataFrame(rows), ["dataset", "model"])
    cells = frame.assign(cell=[mean_sd(m, s) + ("*" if d or n else "")
                               for m, s, d, n in zip(frame["mean"], frame["sd"], frame["diverged"],
                                                     frame["not_measured"])])
    display = cells.pivot(index="model", columns="dataset", values="cell")
    display = display.reindex(index=ordered_models(frame["model"]), columns=ordered_datasets(frame["dataset"]))
    display = display.rename(index=model_label, columns=dataset_label).fillna("–")
    note = (f"{metric_label(spec.metric)} ({spec.column}), mean ± sd (ddof = 1) over the measured seeds of one "
            "configuration per model; * = some seeds diverged (counted by their best evaluation before diverging, "
            "excluded without one) or were not measured (excluded).")
    if inputs.options.paper_unverified:
        paper = [BEST_FID_UNVERIFIED.get((m, d), "–") for m in ordered_models(frame["model"])
                 for d in ordered_datasets(frame["dataset"])]
        paper_cells = np.array(paper, dtype=object).reshape(display.shape)
        display = pd.concat([display, pd.DataFrame(paper_cells, index=display.index,
                                                   columns=[f"{c} (paper, UNVERIFIED)" for c in display.columns])],
                            axis=1)
        note += f" Paper columns: {BEST_FID_SOURCE}."
    return Table("seed_table", "Score over seeds (the paper's best-FID table)",
                 frame, display.reset_index(), note)


def bias_variance_table(inputs: ReportInputs) -> Table | None:
    if inputs.bias_variance is None or inputs.bias_variance.empty:
        return None
    frame = sort_groups(bias_variance_summary(inputs.bias_variance), ["dataset"])
    comparable = frame["encoder"].astype(str).str.contains("inception") if "encoder" in frame else True
    paper = frame["dataset"].map(lambda d: FID_BIAS_VARIANCE.get(d, (np.nan, np.nan)))
    frame["paper_mean"] = paper.map(lambda v: v[0]).where(comparable)
    frame["paper_sd"] = paper.map(lambda v: v[1]).where(comparable)
    display = labelled(frame).map(format_number)
    note = ("FID between two real sample sets of the same data set: its bias (mean) and variance (sd, ddof = 1) "
            f"over `count` draws of n images each. Paper values (Inception encoder, n = 10000, 50 draws): "
            f"{FID_BIAS_VARIANCE_SOURCE}.")
    return Table("fid_bias_variance", "FID bias and variance on real data", frame, display, note)


def split_sensitivity_table(inputs: ReportInputs) -> Table | None:
    if inputs.split_sensitivity is None or inputs.split_sensitivity.empty:
        return None
    frame = sort_groups(bias_variance_summary(inputs.split_sensitivity), ["dataset"])
    note = ("FID between the two parts of random 6:1 partitions of all of a data set's images (train + test), n "
            "images of each part, one FID per partition (`count` partitions; the paper: 50), mean and sd (ddof = 1). "
            "Unlike the bias/variance table the reference set moves too: how much FID depends on the split.")
    return Table("fid_split_sensitivity", "FID split sensitivity on real data", frame,
                 labelled(frame).map(format_number), note)


def shmelkov_values(inputs: ReportInputs, spec: ScoreSpec) -> pd.DataFrame:
    """Per (data set, model): its best completed search trial by the report's score, and that trial's Shmelkov values
    at the evaluation where the score was best (at its final evaluation when its learning curve was not loaded)."""
    trials = inputs.tables.trials
    trials = trials[~trials["seed_study"] & (trials["status"] == "completed")].assign(score=lambda t: trial_scores(t, spec))
    trials = trials[np.isfinite(trials["score"])]
    evaluations = inputs.tables.evaluations
    rows = []
    for (dataset, model), group in trials.groupby(["dataset", "model"], sort=False):
        best = group.loc[group["score"].idxmin() if spec.minimize else group["score"].idxmax()]
        row = {"dataset": dataset, "model": model, "study": best["study"], "trial": int(best["trial"]),
               "trials": len(group)}
        curve = (evaluations[(evaluations["study"] == best["study"]) & (evaluations["trial"] == best["trial"])]
                 if spec.metric in evaluations.columns else evaluations.iloc[:0])
        curve = curve.dropna(subset=[spec.metric]) if len(curve) else curve
        if len(curve):
            at = curve.loc[curve[spec.metric].idxmin() if spec.minimize else curve[spec.metric].idxmax()]
            row["step"] = int(at["step"])
            row |= {name: float(at[name]) if name in at.index else np.nan for name in SHMELKOV_COLUMNS}
        else:
            row["step"] = int(best["steps"]) if "steps" in best.index else -1
            row |= {name: float(best.get(f"final_{name}", np.nan)) for name in SHMELKOV_COLUMNS}
        rows.append(row)
    return sort_groups(pd.DataFrame(rows), ["dataset", "model"]) if rows else pd.DataFrame(rows)


def shmelkov_table(inputs: ReportInputs, spec: ScoreSpec) -> Table | None:
    """Shown when a run measured any of the columns beyond FID; a column no run measured reads "not measured"."""
    frame = shmelkov_values(inputs, spec)
    beyond_fid = [name for name in SHMELKOV_COLUMNS if name != "fid"]
    if frame.empty or frame[beyond_fid].isna().all().all():
        return None
    display = labelled(frame)[["dataset", "model", "trial", "step", *SHMELKOV_COLUMNS]]
    display = display.assign(**{name: [NOT_MEASURED if math.isnan(v) else format_number(v) for v in frame[name]]
                                for name in SHMELKOV_COLUMNS}).rename(columns=SHMELKOV_COLUMNS)
    note = (f"Shmelkov et al. (ECCV 2018), Tables 2-4: per data set and model, its best completed trial by "
            f"{metric_label(spec.metric)} ({spec.column}) among all its search trials, with every value read at the "
            "evaluation where that score was best (at its final evaluation when the learning curve was not loaded). "
            "GAN-train and GAN-test are accuracies in [0, 1] (Shmelkov et al. print %); SWD 16 / 32 are the "
            "sliced Wasserstein distances at 16×16 and 32×32, ×10³ as they print them. \"not measured\": the run did not "
            "evaluate that value (eval.metrics: fid with fid_5k, inception_score and measures.swd; gan_train_test).")
    return Table("shmelkov_table", "Shmelkov et al.'s table: each model's best trial", frame, display, note)


def report_tables(inputs: ReportInputs) -> list[Table]:
    """Every table the data allow, in page order."""
    spec = inputs.spec()
    tables = [search_summary(inputs, spec), expected_best_table(inputs, spec), seed_table(inputs, spec),
              shmelkov_table(inputs, spec), bias_variance_table(inputs), split_sensitivity_table(inputs)]
    return [t for t in tables if t is not None and not t.frame.empty]


def to_markdown(display: pd.DataFrame) -> str:
    header = [str(c) for c in display.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in display.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_table(table: Table, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"csv": folder / f"{table.name}.csv", "md": folder / f"{table.name}.md"}
    floats = table.frame.select_dtypes("floating").columns
    table.frame.assign(**{c: table.frame[c] + 0.0 for c in floats}).to_csv(paths["csv"], index=False)  # 0, never -0
    paths["md"].write_text(f"## {table.title}\n\n{to_markdown(table.display)}\n{table.note}\n")
    return paths
