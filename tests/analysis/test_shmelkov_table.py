"""Shmelkov et al.'s table: each model's best trial by the report's score, its values at the evaluation where that
score was best, and "not measured" where no run evaluated a column."""
from __future__ import annotations

import math

from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.tables import report_tables, shmelkov_table, to_markdown

MEASURED = ("fid", "is", "fid_5k", "gan_train", "gan_test")


def study(extra: bool = True) -> tuple:
    """Two models on CIFAR10; trial 1 (FID 20) is WGAN's best completed trial, trial 2 diverged with a better FID,
    trial 4 (FID 40) is NS GAN's best; no SWD anywhere."""
    values = {"is": [5.0, 6.0, 7.0], "fid_5k": [32.0, 22.0, 27.0], "gan_train": [0.4, 0.5, 0.6],
              "gan_test": [0.7, 0.8, 0.9]}
    wgan = trial_rows("s", "wgan", "cifar10", "wide", [30.0, 20.0, 15.0], ["completed", "completed", "diverged"],
                      extra_metrics=values if extra else None)
    ns_gan = trial_rows("s", "ns_gan", "cifar10", "wide", [40.0, 50.0], first_trial=3,
                        extra_metrics={k: v[:2] for k, v in values.items()} if extra else None)
    trials = tables_of((wgan, evaluation_rows(wgan, MEASURED if extra else ("fid",))),
                       (ns_gan, evaluation_rows(ns_gan, MEASURED if extra else ("fid",))))
    return trials


def test_each_model_is_read_at_the_evaluation_of_its_best_score():
    tables = study()
    evaluations = tables.evaluations
    early = (evaluations["trial"] == 1) & (evaluations["step"] == 7812)
    evaluations.loc[early, ["fid", "is"]] = [12.0, 9.5]  # trial 1's best FID is now at step 7,812, not at the end
    inputs = ReportInputs(tables, ReportOptions())
    table = shmelkov_table(inputs, inputs.spec())
    rows = {row["model"]: row for row in table.frame.to_dict("records")}
    decay = 1 + 2 * math.exp(-7812 / 4000)  # synthetic_studies.evaluation_rows' learning curve at step 7,812
    assert (rows["wgan"]["trial"], rows["wgan"]["step"], rows["wgan"]["trials"]) == (1, 7812, 2)
    assert (rows["wgan"]["fid"], rows["wgan"]["is"]) == (12.0, 9.5)
    assert math.isclose(rows["wgan"]["fid_5k"], 22.0 / decay) and math.isclose(rows["wgan"]["gan_test"], 0.8 / decay)
    assert (rows["ns_gan"]["trial"], rows["ns_gan"]["step"], rows["ns_gan"]["fid"], rows["ns_gan"]["gan_train"]) == (
        3, 15625, 40.0, 0.4)  # learning curves end at the best value
    assert list(table.display.columns) == ["dataset", "model", "trial", "step", "IS", "FID-5K", "FID", "GAN-train",
                                           "GAN-test", "SWD 16", "SWD 32"]
    shown = table.display.set_index("model")
    assert list(shown.loc["WGAN", ["IS", "FID", "GAN-train", "SWD 16", "SWD 32"]]) == [
        "9.5", "12", f"{0.5 / decay:.4g}", "not measured", "not measured"]  # 0.3895
    assert list(table.display["model"]) == ["NS GAN", "WGAN"]  # the paper's model order
    assert "| CIFAR10 | WGAN | 1 | 7812 | 9.5 |" in to_markdown(table.display)


def test_the_table_is_left_out_when_only_fid_was_measured():
    inputs = ReportInputs(study(extra=False), ReportOptions())
    assert shmelkov_table(inputs, inputs.spec()) is None
    assert "shmelkov_table" not in [t.name for t in report_tables(inputs)]
    measured = ReportInputs(study(), ReportOptions())
    assert "shmelkov_table" in [t.name for t in report_tables(measured)]
