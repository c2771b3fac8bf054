"""PRD curves (Sajjadi et al. 2018) of each model's best trial, read from the run folders' `measures/prd.json`."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from gan_study.analysis.figures.registry import FigureSkipped, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.scores import budget_trials
from gan_study.analysis.style import dataset_label, dataset_panels, model_color, model_label, ordered_models

CAPTION = ("Precision against recall for distributions (PRD, Sajjadi et al. 2018) at the last evaluation of each "
           "model's trial with the best {metric}: histograms over 20 k-means clusters of the pooled real and "
           "generated features of the FID pass (eval.metrics.fid.measures.prd), averaged over 10 clusterings. "
           "Up and right is better; the legend gives F_8 (recall-weighted) / F_1/8 (precision-weighted).")


def run_artefact(run_dir: object, name: str) -> Path | None:
    """`<run_dir>/measures/<name>` when the run folder is readable here and holds it."""
    if not isinstance(run_dir, str) or not run_dir:
        return None
    path = Path(run_dir) / "measures" / name
    return path if path.is_file() else None


def best_trials_with(inputs: ReportInputs, artefact: str) -> pd.DataFrame:
    """Per (data set, model), the completed trial with the best score among those whose run folder holds `artefact`."""
    spec = inputs.spec()
    trials = budget_trials(inputs.tables.trials, spec, inputs.main_search(inputs.tables.trials))
    trials = trials[trials["status"] == "completed"]
    trials = trials.assign(artefact=trials["run_dir"].map(lambda run: run_artefact(run, artefact))).dropna(
        subset=["artefact"])
    if trials.empty:
        return trials
    pick = trials.groupby(["dataset", "model"])["score"].idxmin() if spec.minimize else \
        trials.groupby(["dataset", "model"])["score"].idxmax()
    return trials.loc[pick.values]


@register_figure("prd_curves", title="Precision and recall for distributions (PRD)", caption=CAPTION)
def prd_figure(inputs: ReportInputs) -> Figure:
    shown = best_trials_with(inputs, "prd.json")
    if shown.empty:
        raise FigureSkipped("no completed trial's run folder holds measures/prd.json (eval.metrics.fid.measures.prd)")
    fig, panels = dataset_panels(shown, (3.8, 3.6))
    for ax, dataset, rows in panels:
        sizes = set()
        for model in ordered_models(rows["model"]):
            trial = rows[rows["model"] == model].iloc[0]
            curve = json.loads(Path(trial["artefact"]).read_text())
            sizes.add((curve["n_real"], curve["n_generated"]))
            ax.plot(curve["recall"], curve["precision"], color=model_color(model), gid=model,
                    label=f"{model_label(model)} (trial {trial['trial']}): F8 {curve['prd_f8']:.2f} / "
                          f"F1/8 {curve['prd_f1_8']:.2f}")
        ax.legend(fontsize=6, loc="lower left")
        described = ", ".join(f"{r} real vs {g} generated" for r, g in sorted(sizes))
        ax.set(xlim=(0, 1.02), ylim=(0, 1.02), aspect="equal", xlabel="recall", ylabel="precision",
               title=f"{dataset_label(dataset)}: {len(rows)} runs ({described})")
    fig.suptitle("PRD curves of each model's best trial")
    return fig
