"""Tables hold exactly the values computed by hand from a small, explicit study."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.budget import expected_best
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.tables import (bias_variance_table, expected_best_table, format_number, mean_sd, report_tables,
                                      search_summary, seed_table, to_markdown, write_table)


def explicit_inputs(**options) -> ReportInputs:
    search = trial_rows("s", "ns_gan", "mnist", "wide", [5.0, 3.0, 9.0, 1.0, 0.5],
                        ["completed", "completed", "completed", "diverged", "failed"], params={"lr": [1, 2, 3, 4, 5]})
    seeds = trial_rows("seeds", "ns_gan", "mnist", "seeds", [10.0, 12.0, 14.0, 99.0],
                       ["completed", "completed", "completed", "diverged"], first_trial=100, seeds=range(4))
    other = trial_rows("seeds", "wgan", "cifar10", "seeds", [20.0, 20.0], first_trial=200, seeds=range(2))
    tables = tables_of((search, evaluation_rows(search)), (seeds, evaluation_rows(seeds)),
                       (other, evaluation_rows(other)))
    return ReportInputs(tables, ReportOptions(**options))


def test_search_summary_counts_and_scores():
    inputs = explicit_inputs()
    row = search_summary(inputs, inputs.spec()).frame.iloc[0]
    assert (row["trials"], row["completed"], row["diverged"], row["not_measured"]) == (5, 3, 1, 1)
    assert (row["best"], row["best_trial"], row["median"], row["default"]) == (3.0, 1, 5.0, 5.0)


def test_seed_table_is_mean_and_sd_over_measured_seeds():
    inputs = explicit_inputs()
    table = seed_table(inputs, inputs.spec())
    frame = table.frame.set_index("model")
    assert frame.loc["ns_gan", ["seeds", "measured", "diverged"]].tolist() == [4, 3, 1]
    assert frame.loc["ns_gan", "mean"] == 12.0 and frame.loc["ns_gan", "sd"] == 2.0  # 10, 12, 14; ddof = 1
    display = table.display.set_index("model")
    assert display.loc["NS GAN", "MNIST"] == "12 ± 2*"  # * = a diverged seed, excluded
    assert display.loc["WGAN", "CIFAR10"] == "20 ± 0"
    assert display.loc["WGAN", "MNIST"] == "–"
    assert not any("paper" in str(c) for c in display.columns)  # unverified numbers only on request


def test_unverified_paper_values_are_labelled():
    inputs = explicit_inputs(paper_unverified=True)
    table = seed_table(inputs, inputs.spec())
    display = table.display.set_index("model")
    assert display.loc["NS GAN", "MNIST (paper, UNVERIFIED)"] == "6.8 ± 0.5"
    assert display.loc["WGAN", "CIFAR10 (paper, UNVERIFIED)"] == "55.2 ± 2.3"
    assert "UNVERIFIED" in table.note


def test_bias_variance_table_puts_the_verified_paper_values_beside_ours():
    draws = pd.DataFrame({"dataset": ["mnist"] * 3 + ["cifar10"] * 2 + ["mnist"] * 2,
                          "encoder": ["inception"] * 5 + ["vgg16_fc7"] * 2, "n": 10000,
                          "fid": [1.0, 1.2, 1.4, 5.0, 5.5, 3.0, 3.0]})
    inputs = explicit_inputs()
    inputs.bias_variance = draws
    frame = bias_variance_table(inputs).frame.set_index(["dataset", "encoder"])
    assert frame.loc[("mnist", "inception"), ["count", "fid_mean", "paper_mean", "paper_sd"]].tolist() == \
        pytest.approx([3, 1.2, 1.25, 0.02])
    assert frame.loc[("mnist", "inception"), "fid_sd"] == pytest.approx(0.2)
    assert frame.loc[("cifar10", "inception"), ["fid_mean", "paper_mean"]].tolist() == pytest.approx([5.25, 5.19])
    assert np.isnan(frame.loc[("mnist", "vgg16_fc7"), "paper_mean"])  # the paper's numbers are Inception FIDs


def test_expected_best_table_holds_the_exact_expectations():
    inputs = explicit_inputs()
    row = expected_best_table(inputs, inputs.spec()).frame.iloc[0]
    scores = np.array([5.0, 3.0, 9.0, np.inf])
    assert row["n"] == 4
    for k in (1, 4):
        assert row[f"k={k}"] == pytest.approx(expected_best(scores, k, given_success=True))
    assert "k=5" not in row.index or np.isnan(row["k=5"])


def test_tables_are_written_as_csv_and_markdown(tmp_path):
    inputs = explicit_inputs()
    tables = report_tables(inputs)
    assert [t.name for t in tables] == ["search_summary", "expected_best", "seed_table"]  # no sanity draws given
    paths = write_table(tables[0], tmp_path)
    assert pd.read_csv(paths["csv"])["best"].tolist() == [3.0]
    markdown = paths["md"].read_text().splitlines()
    assert markdown[0] == "## Trials and scores per search"
    assert markdown[2].startswith("| dataset | search | model | trials |") and markdown[3].startswith("|---|")
    assert markdown[4].startswith("| MNIST | wide | NS GAN | 5 | 3 | 1 | 1 | 3 | 1 | 5 | 5 |")


def test_markdown_rows_match_the_frame():
    frame = pd.DataFrame({"a": ["x", "y"], "b": ["1", "2"]})
    assert to_markdown(frame) == "| a | b |\n|---|---|\n| x | 1 |\n| y | 2 |\n"


def test_a_zero_f1_reads_0_never_minus_0(tmp_path):
    # maximised scores are negated for the budget statistics and back: 0.0 comes back as -0.0
    search = trial_rows("s", "ns_gan", "triangles", "wide", [0.0, 0.0, 0.0], metric="f1", direction="maximize")
    inputs = ReportInputs(tables_of((search, evaluation_rows(search, ("f1",)))), ReportOptions(metric="f1"))
    table = expected_best_table(inputs, inputs.spec())
    assert table.display.filter(like="k=").iloc[0].tolist() == ["0", "0"]
    csv = write_table(table, tmp_path)["csv"].read_text()
    assert "-0.0" not in csv and ",0.0,0.0" in csv and table.frame["n"].iloc[0] == 3
    assert (format_number(-0.0), format_number(-1e-300 * 1e-300), mean_sd(-0.0, 0.0)) == ("0", "0", "0 ± 0")
