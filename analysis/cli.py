"""`gan-report`: every figure and table of one or more studies, as a folder with one self-contained HTML page.

    gan-report export=runs/export                         # tables written by the study export
    gan-report storage.url=sqlite:///studies/gan-study.db study=mnist-wide-ns_gan out=reports/mnist
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import replace
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig, ListConfig, OmegaConf

from gan_study.analysis.comparisons import UNITS, VerdictOptions, against, oriented, verdict_line
from gan_study.analysis.figures import get_figure
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.load import StudyTables, load
from gan_study.analysis.report import ReportResult, build_report
from gan_study.analysis.sanity import (read_augmentation, read_bias_variance, read_encoder_sensitivity,
                                      read_mode_dropping, read_split_sensitivity, read_tsne)
from gan_study.analysis.scores import BUDGET_METHODS, BudgetOptions, objective_metric
from gan_study.analysis.style import dataset_label, model_label, ordered_datasets, ordered_models
from gan_study.analysis.tables import format_number
from gan_study.models.checks import check, choice, flag, integer, number, positive
from gan_study.study.search.credentials import for_workers, scrub_hydra_output


def _names(value: object) -> list[str] | None:
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, (list, tuple, ListConfig)) else [str(value)]


def report_options(cfg: DictConfig) -> ReportOptions:
    """The validated options; every bad value is named before any data are read."""
    boot = cfg.bootstrap
    budget = BudgetOptions(
        method=choice("bootstrap.method", boot.method, BUDGET_METHODS),
        resamples=integer("bootstrap.resamples", boot.resamples, 1),
        replace=flag("bootstrap.replace", boot.replace),
        interval=choice("bootstrap.interval", boot.interval, ("sd", "percentile")),
        level=number("bootstrap.level", boot.level, lambda v: 0 < v < 1, "the interval's coverage, a number in (0, 1)"),
        seed=integer("bootstrap.seed", boot.seed, 0))
    directions = dict(cfg.directions or {})
    verdicts = verdict_options(cfg.verdicts)
    for metric, direction in directions.items():
        choice(f"directions.{metric}", direction, ("minimize", "maximize"))
    return ReportOptions(metric=str(cfg.metric or "fid"), score=choice("score", cfg.score, ("best", "final")),
                         budget=budget, directions=directions,
                         sensitivity_params=tuple(_names(cfg.sensitivity_params) or ()),
                         paper_unverified=flag("paper_unverified", cfg.paper_unverified), verdicts=verdicts)


def verdict_options(cfg: DictConfig) -> VerdictOptions:
    """`verdicts.*`, each bad value named; a budget in trials is a whole number of trials."""
    unit = choice("verdicts.budget", cfg.budget, UNITS)
    whole = unit == "trials"
    budget = (lambda field, value: float(integer(field, value, 1))) if whole else positive
    at = None if cfg.at is None else budget("verdicts.at", cfg.at)
    budgets = cfg.budgets
    if budgets is not None:
        budgets = list(budgets) if isinstance(budgets, (list, tuple, ListConfig)) else [budgets]
        check(len(budgets) > 0, "verdicts.budgets", budgets, "a non-empty list, or null")
        budgets = tuple(budget(f"verdicts.budgets[{i}]", v) for i, v in enumerate(budgets))
    return VerdictOptions(
        budget=unit, at=at, budgets=budgets,
        alpha=number("verdicts.alpha", cfg.alpha, lambda v: 0 < v < 1, "a number in (0, 1)"),
        level=number("verdicts.level", cfg.level, lambda v: 0 < v < 1, "the interval's coverage, a number in (0, 1)"),
        resamples=integer("verdicts.resamples", cfg.resamples, 2), seed=integer("verdicts.seed", cfg.seed, 0),
        reference=str(cfg.reference))


def report_folder(cfg: DictConfig) -> Path:
    if cfg.out:
        return Path(str(cfg.out))
    studies, exports = _names(cfg.study), _names(cfg.export)
    name = studies[0] if studies else Path(exports[0]).stem if exports else "report"
    return Path("reports") / name


def read_inputs(cfg: DictConfig, options: ReportOptions) -> ReportInputs:
    if cfg.export is None and cfg.storage.url is None:
        raise ValueError("give export=<exported table(s)>, or storage.url=<Optuna URL> (or storage=journal|sqlite|"
                         "postgres, as gan-sweep) with study=<name(s)>")
    tables = load(export=_names(cfg.export), storage=cfg.storage.url, study=_names(cfg.study))
    sanity = cfg.sanity
    return ReportInputs(tables, options,
                        bias_variance=read_bias_variance(sanity.bias_variance) if sanity.bias_variance else None,
                        mode_dropping=read_mode_dropping(sanity.mode_dropping) if sanity.mode_dropping else None,
                        split_sensitivity=(read_split_sensitivity(sanity.split_sensitivity)
                                           if sanity.get("split_sensitivity") else None),
                        encoder_sensitivity=(read_encoder_sensitivity(sanity.encoder_sensitivity)
                                             if sanity.get("encoder_sensitivity") else None),
                        augmentation=read_augmentation(sanity.augmentation) if sanity.get("augmentation") else None,
                        tsne=read_tsne(sanity.tsne) if sanity.get("tsne") else None)


def summary_lines(tables: StudyTables, result: ReportResult, metric: str) -> list[str]:
    """One screen: per model (rows) and data set/search (columns), the best score and diverged/measured counts."""
    summary = next((t.frame for t in result.tables if t.name == "search_summary"), pd.DataFrame())
    lines = [f"report: {result.page.resolve()}",
             f"{len(tables.trials)} trials; {len(result.figures)} figures, {len(result.skipped)} skipped"
             + (f" ({', '.join(result.skipped)})" if result.skipped else "")]
    if summary.empty:
        return lines
    summary = summary.assign(cell=[f"{format_number(b)} ({d}/{c + d} div)" for b, d, c in
                                   zip(summary["best"], summary["diverged"], summary["completed"])],
                             column=[f"{dataset_label(d)}/{s}" for d, s in zip(summary["dataset"], summary["search"])])
    columns = [f"{dataset_label(d)}/{s}" for d in ordered_datasets(summary["dataset"])
               for s in sorted(set(summary.loc[summary["dataset"] == d, "search"]))]
    table = summary.pivot(index="model", columns="column", values="cell").reindex(
        index=ordered_models(summary["model"]), columns=columns).fillna("–").rename(index=model_label)
    table.index.name, table.columns.name = f"best {metric}", None
    return lines + ["", table.to_string()]


def verdict_lines(inputs: ReportInputs) -> list[str]:
    """Every loss against the reference at the headline budget, one line each, per data set and search."""
    frame = inputs.verdicts(inputs.spec())
    frame = frame[frame["headline"]] if not frame.empty else frame
    lines = []
    for (dataset, search), group in frame.groupby(["dataset", "search"], sort=False):
        models = sorted(set(group["model_a"]) | set(group["model_b"]))
        reference = inputs.options.verdicts.reference
        reference = reference if reference in models else ordered_models(models)[0]
        lines += ["", f"{dataset_label(dataset)}/{search}, against {model_label(reference)}:"]
        lines += [f"  {verdict_line(row)}" for _, row in against(group, reference).iterrows()]
    return lines


def compare_lines(inputs: ReportInputs, pair: list[str]) -> list[str]:
    """`compare=[a,b]`: a against b at every budget of every data set and search where both have trials."""
    check(len(pair) == 2 and pair[0] != pair[1], "compare", pair, "two different losses, [a, b]")
    frame = inputs.verdicts(inputs.spec())
    models = sorted(set(frame["model_a"]) | set(frame["model_b"]))
    for name in pair:
        choice("compare", name, models)
    chosen = oriented(frame[frame["model_a"].isin(pair) & frame["model_b"].isin(pair)], pair[1])
    lines = [f"{model_label(pair[0])} vs {model_label(pair[1])}: {inputs.spec().column}, Holm over every pair of "
             "the study's losses at each budget"]
    for (dataset, search, machine), group in chosen.groupby(["dataset", "search", "machine"], sort=False):
        lines += ["", f"{dataset_label(dataset)}/{search}" + ("" if machine == "any" else f" on {machine}") + ":"]
        lines += [f"  {verdict_line(row)}" for _, row in group.sort_values("budget").iterrows()]
    return lines


@hydra.main(config_path="../conf", config_name="report", version_base="1.3")
def main(cfg: DictConfig) -> None:
    scrub_hydra_output(cfg.storage.url)
    if cfg.storage.url is not None:  # a password leaves the config (and the page's provenance) for PGPASSWORD
        cfg.storage.url = for_workers(str(cfg.storage.url))
    try:
        for module in cfg.figure_modules or []:
            importlib.import_module(str(module))
        options = report_options(cfg)
        pair = _names(cfg.get("compare"))
        figures = _names(cfg.figures)
        for name in figures or []:
            get_figure(name)
        inputs = read_inputs(cfg, options)
        if cfg.metric is None:  # the metric the studies optimised
            inputs.options = replace(options, metric=objective_metric(inputs.tables.trials) or options.metric)
        inputs.runs_root = Path(cfg.runs_root) if cfg.runs_root else None
        inputs.spec()  # the metric exists and has a direction
        if pair is not None:
            print("\n".join(compare_lines(inputs, pair)))
            return
    except (ValueError, OSError, ImportError) as error:  # OSError: a missing file, an unreachable database
        print(f"gan-report: {error}", file=sys.stderr)
        sys.exit(2)
    result = build_report(inputs, report_folder(cfg), figures, OmegaConf.to_yaml(cfg),
                          Path(cfg.runs_root) if cfg.runs_root else None)
    print("\n".join(summary_lines(inputs.tables, result, inputs.options.metric) + verdict_lines(inputs)))


if __name__ == "__main__":
    main()
