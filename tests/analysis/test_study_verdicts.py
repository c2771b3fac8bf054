"""A study's verdicts: budgets in trials and device-hours (per kind of machine, diverged trials paid for), the
report's table, figure and summary lines, `gan-report compare=[a,b]`, and the options' errors."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.cli import compare_lines, report_options, verdict_lines
from gan_study.analysis.comparisons import VerdictOptions, against, verdict_frame, verdict_line
from gan_study.analysis.budget import expected_best
from gan_study.analysis.compute_budget import UNRECORDED, hours_curves, trial_machines
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.load import load
from gan_study.analysis.report import build_report
from gan_study.analysis.scores import score_spec
from gan_study.analysis.verdicts import p_better
from gan_study.models.checks import ConfigError

NS = np.array([10.0, 12.0, 14.0, 16.0, 18.0, 20.0])
WGAN_GP = np.array([11.0, 13.0, 15.0, 17.0, 19.0, np.inf])  # the last diverged


def study(runtime_ns: float = 100.0, runtime_gp: float = 400.0, machine_gp: str | None = None) -> pd.DataFrame:
    ns = trial_rows("s", "ns_gan", "mnist", "wide", NS).assign(runtime_s=runtime_ns)
    gp = trial_rows("s", "wgan_gp", "mnist", "wide", WGAN_GP, statuses=["completed"] * 5 + ["diverged"],
                    first_trial=len(NS)).assign(runtime_s=[runtime_gp] * 5 + [runtime_gp / 4])
    trials = tables_of((ns, evaluation_rows(ns)), (gp, evaluation_rows(gp))).trials
    trials["diverged_rule"] = "worst"
    return trials.assign(machine=["zen3"] * len(NS) + [machine_gp or "zen3"] * len(WGAN_GP))


def test_trials_budget_gives_the_exact_value_and_holm_over_the_family():
    trials = study()
    frame = verdict_frame(trials, score_spec(trials, "fid"), VerdictOptions(resamples=200))
    # The headline: a quarter of the fewest trials (6 // 4 = 1).
    assert list(frame["budget"]) == [1, 2, 3, 4, 5, 6] and frame["headline"].tolist() == [True] + [False] * 5
    np.testing.assert_allclose(frame["p_better"], p_better(NS, WGAN_GP, np.arange(1, 7)), atol=1e-12)
    assert (frame["p_holm"] == frame["p_value"]).all()  # one pair: Holm changes nothing
    assert (frame["machine"] == "any").all()


def test_three_trials_against_three_never_decide():
    ns = trial_rows("s", "ns_gan", "triangles", "wide", [78.78, 95.2, 111.0])
    lsgan = trial_rows("s", "lsgan", "triangles", "wide", [130.8, 135.0, 146.5], first_trial=3)
    trials = tables_of((ns, evaluation_rows(ns)), (lsgan, evaluation_rows(lsgan))).trials
    frame = verdict_frame(trials, score_spec(trials, "fid"), VerdictOptions(resamples=200))
    # Every resample says NS GAN (P = 1, bootstrap p = 0), but no exact test of 3 against 3 goes below 0.1.
    assert (frame["p_better"] == 1.0).all()
    np.testing.assert_allclose(frame["p_value"], 0.1, atol=1e-12)
    assert (frame["decision"] == "no evidence").all() and (frame["trials_needed"] == 4).all()


def test_hours_budget_buys_each_loss_what_its_mean_cost_allows_diverged_time_included():
    trials = study()
    # WGAN-GP's mean cost: (5 x 400 s + 100 s) / 6 = 350 s; NS GAN's 100 s. 0.5 h = 1800 s buys 18 and 5 trials.
    options = VerdictOptions(budget="hours", at=0.5, budgets=(0.5,), resamples=200)
    row = verdict_frame(trials, score_spec(trials, "fid"), options).iloc[0]
    assert (row["model_a"], row["k_a"], row["model_b"], row["k_b"]) == ("ns_gan", 18, "wgan_gp", 5)
    assert row["p_better"] == pytest.approx(p_better(NS, WGAN_GP, 18, 5), abs=1e-12)
    assert row["machine"] == "zen3" and row["unit"] == "hours"


def test_hours_on_two_kinds_of_machine_are_never_pooled():
    trials = study(machine_gp="zen4")
    frame = verdict_frame(trials, score_spec(trials, "fid"), VerdictOptions(budget="hours", resamples=50))
    assert frame.empty  # each machine ran one loss only: nothing to compare, rather than a silent mix
    mixed = study()
    mixed.loc[mixed.index[-3:], "machine"] = "zen4"  # three WGAN-GP trials elsewhere
    mixed = pd.concat([mixed, mixed[mixed["model"] == "ns_gan"].assign(machine="zen4", trial=lambda t: t["trial"] + 50)])
    frame = verdict_frame(mixed, score_spec(mixed, "fid"), VerdictOptions(budget="hours", resamples=50))
    assert set(frame["machine"]) == {"zen3", "zen4"}
    assert set(frame.loc[frame["machine"] == "zen3", "n_b"]) == {3} and set(frame.loc[frame["machine"] == "zen4", "n_b"]) == {3}


def test_machines_are_read_from_the_run_records(tmp_path):
    trials = trial_rows("s", "ns_gan", "mnist", "wide", [1.0, 2.0]).assign(run_dir=["a", "b"])
    (tmp_path / "a").mkdir()
    hardware = {"cpu": "AMD EPYC 7B13", "cpu_capability": "AVX2", "threads": 2, "accelerator": "cpu", "torch": "2.5"}
    (tmp_path / "a" / "record.json").write_text(json.dumps({"hardware": hardware}))
    assert list(trial_machines(trials, tmp_path)) == ["AMD EPYC 7B13, AVX2, 2 threads, cpu", UNRECORDED]
    (tmp_path / "b").mkdir()  # a newer record names the CPU's family and model: one name, several speeds
    (tmp_path / "b" / "record.json").write_text(json.dumps({"hardware": hardware | {"cpu_family": 23, "cpu_model": 1}}))
    assert trial_machines(trials, tmp_path).iloc[1] == "AMD EPYC 7B13 (family 23 model 1), AVX2, 2 threads, cpu"


def test_the_summary_line_reads_as_the_issue_asks():
    row = pd.Series({"unit": "trials", "budget": 20.0, "machine": "any", "k_a": 20, "k_b": 20, "model_a": "wgan_gp",
                     "model_b": "ns_gan", "p_better": 0.6149, "lower": 0.481, "upper": 0.7249, "p_holm": 0.3,
                     "decision": "no evidence", "trials_needed": 60.0})
    assert verdict_line(row) == ("budget 20 trials, WGAN GP vs NS GAN: P(better) 0.61 [0.48, 0.72], no evidence; "
                                 "60 trials each would decide")
    decided = row.copy()
    decided[["decision", "p_holm"]] = ["B better", 0.004]
    assert verdict_line(decided).endswith("[0.48, 0.72], NS GAN better (Holm p = 0.004)")


def test_against_orients_every_pair_towards_the_reference():
    trials = study()
    frame = verdict_frame(trials, score_spec(trials, "fid"), VerdictOptions(resamples=200))
    flipped = against(frame, "ns_gan")
    assert (flipped["model_b"] == "ns_gan").all()
    np.testing.assert_allclose(flipped["p_better"], 1 - frame["p_better"], atol=1e-15)
    np.testing.assert_allclose(flipped["lower"], 1 - frame["upper"], atol=1e-15)


def test_report_has_the_verdict_table_figure_and_csv(tmp_path):
    trials = study()
    inputs = ReportInputs(tables_of((trials, evaluation_rows(trials))), ReportOptions(verdicts=VerdictOptions(resamples=100)))
    result = build_report(inputs, tmp_path / "report", figures=["verdicts"])
    assert "verdicts" in result.figures
    table = next(t for t in result.tables if t.name == "verdicts")
    assert table.display.iloc[0][["A", "B", "budget"]].tolist() == ["NS GAN", "WGAN GP", "1 trial"]
    assert 'id="table-verdicts"' in result.page.read_text()
    assert len(pd.read_csv(tmp_path / "report" / "tables" / "verdicts_all_budgets.csv")) == 6


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    trials = study().drop(columns="machine")
    trials.to_csv(folder / "trials.csv", index=False)
    evaluation_rows(trials).to_csv(folder / "evaluations.csv", index=False)
    return folder


def test_summary_lines_give_every_loss_against_the_reference(export):
    """What gan-report prints after its table (verdict_lines; test_report_page runs the command itself)."""
    inputs = ReportInputs(load(export=export), ReportOptions(verdicts=VerdictOptions(resamples=100, at=6)))
    lines = verdict_lines(inputs)
    assert lines[:2] == ["", "MNIST/wide, against NS GAN:"]
    assert re.fullmatch(r"  budget 6 trials, WGAN GP vs NS GAN: P\(better\) 0\.\d\d \[0\.\d\d, \d\.\d\d\], .+", lines[2])


def test_compare_view_gives_every_budget(export):
    """`gan-report compare=[wgan_gp,ns_gan]` prints these lines (compare_lines), in-process: the CLI path is the summary's."""
    inputs = ReportInputs(load(export=export), ReportOptions(verdicts=VerdictOptions(resamples=100)))
    lines = [line for line in compare_lines(inputs, ["wgan_gp", "ns_gan"]) if line.startswith("  budget")]
    assert [line.split(",")[0] for line in lines] == ["  budget 1 trial"] + [f"  budget {k} trials" for k in range(2, 7)]
    assert f"P(better) {p_better(WGAN_GP, NS, 1):.2f} " in lines[0]


@pytest.mark.parametrize("override, message", [
    ("verdicts.budget=days", "verdicts.budget = 'days' is not allowed: one of ['trials', 'hours']"),
    ("verdicts.at=2.5", "verdicts.at = 2.5 is not allowed: an integer >= 1"),
    ("verdicts.budgets=[1,0]", "verdicts.budgets[1] = 0 is not allowed: an integer >= 1"),
    ("verdicts.alpha=1.5", "verdicts.alpha = 1.5 is not allowed: a number in (0, 1)"),
    ("verdicts.resamples=1", "verdicts.resamples = 1 is not allowed: an integer >= 2"),
])
def test_verdict_options_name_the_bad_value(suite, override, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        report_options(suite.compose([override], config_name="report"))


def test_compare_names_an_unknown_loss(export):
    inputs = ReportInputs(load(export=export), ReportOptions(verdicts=VerdictOptions(resamples=10)))
    with pytest.raises(ConfigError, match=re.escape("compare = 'hinge' is not allowed: one of ['ns_gan', 'wgan_gp']")):
        compare_lines(inputs, ["wgan_gp", "hinge"])


def test_hours_curves_give_each_loss_the_trials_its_cost_buys():
    trials = study()
    frame = hours_curves(trials, score_spec(trials, "fid"), "wide", points=3)
    # From one WGAN-GP trial (350 s) to NS GAN's whole spend (6 x 100 s = 600 s): 350, 458.3, 600 s.
    hours = frame.loc[frame["model"] == "ns_gan", "hours"].to_numpy() * 3600
    np.testing.assert_allclose(hours, [350.0, np.sqrt(350 * 600), 600.0], rtol=1e-12)
    assert list(frame.loc[frame["model"] == "ns_gan", "k"]) == [3, 4, 6]
    assert list(frame.loc[frame["model"] == "wgan_gp", "k"]) == [1, 1, 1]
    np.testing.assert_allclose(frame.loc[frame["model"] == "ns_gan", "mean"],
                               expected_best(NS, np.array([3, 4, 6]), given_success=True), rtol=1e-12)
    assert set(frame["machine"]) == {"zen3"}


def test_report_draws_the_hours_figure(tmp_path):
    trials = study()
    inputs = ReportInputs(tables_of((trials, evaluation_rows(trials))))
    result = build_report(inputs, tmp_path / "report", figures=["budget_hours"])
    assert "budget_hours" in result.figures and not result.skipped
