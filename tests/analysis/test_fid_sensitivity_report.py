"""The report's FID sensitivity checks: the split-sensitivity table beside bias/variance, and the encoder-sensitivity
figure (values, axes, ρ) — drawn from the CSV files gan-fid-experiments writes, read as the report reads them."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, caption, draw_figure
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.sanity import read_encoder_sensitivity, read_split_sensitivity
from gan_study.analysis.tables import report_tables, split_sensitivity_table


@pytest.fixture(scope="module")
def tables():
    trials = trial_rows("s", "ns_gan", "mnist", "wide", [10.0, 12.0, 14.0])
    return tables_of((trials, evaluation_rows(trials)))


def test_split_sensitivity_is_summarised_per_data_set_and_follows_bias_variance(tables, tmp_path):
    path = tmp_path / "split.csv"
    pd.DataFrame({"dataset": ["mnist"] * 4 + ["cifar10"] * 2, "encoder": "inception", "n": 10000,
                  "draw": [0, 1, 2, 3, 0, 1], "fid": [1.0, 2.0, 3.0, 6.0, 5.0, 5.5]}).to_csv(path, index=False)
    bias = pd.DataFrame({"dataset": ["mnist"] * 2, "encoder": "inception", "n": 10000, "fid": [1.2, 1.3]})
    inputs = ReportInputs(tables, ReportOptions(), bias_variance=bias, split_sensitivity=read_split_sensitivity(path))
    rows = split_sensitivity_table(inputs).frame.set_index("dataset")
    assert list(rows.index) == ["mnist", "cifar10"]  # the paper's data set order
    assert (rows.loc["mnist", "count"], rows.loc["mnist", "fid_mean"]) == (4, 3.0)
    assert rows.loc["mnist", "fid_sd"] == pytest.approx((14 / 3) ** 0.5)  # deviations -2, -1, 0, 3: 14 / (4 - 1)
    assert rows.loc["cifar10", "fid_sd"] == pytest.approx(0.125 ** 0.5)  # (5, 5.5): 2 · 0.25² / (2 - 1)
    names = [t.name for t in report_tables(inputs)]
    assert names.index("fid_split_sensitivity") == names.index("fid_bias_variance") + 1


def test_encoder_sensitivity_plots_each_generator_under_both_encoders(tables, tmp_path):
    path = tmp_path / "encoders.csv"
    table = pd.DataFrame({"generator": ["a", "b", "c", "d"], "fid_inception": [10.0, 20.0, 30.0, 40.0],
                          "fid_vgg16_fc7": [1.0, 3.0, 2.0, 4.0]})
    table.to_csv(path, index=False)
    inputs = ReportInputs(tables, ReportOptions(), encoder_sensitivity=read_encoder_sensitivity(path))
    fig = draw_figure("encoder_sensitivity", inputs)
    (ax,) = fig.axes
    (points,) = [c for c in ax.collections if c.get_gid() == "generators"]
    assert points.get_offsets().tolist() == [[10, 1], [20, 3], [30, 2], [40, 4]]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("FID (inception)", "FID (vgg16_fc7)")
    # ranks (1, 2, 3, 4) vs (1, 3, 2, 4): rho = 1 - 6·(0 + 1 + 1 + 0) / (4·(16 - 1)) = 0.8
    assert ax.get_title() == "4 generators, Spearman ρ = 0.800"
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c", "d"]
    assert "best FID evaluation" in caption("encoder_sensitivity", inputs)
    plt.close(fig)


def test_encoder_sensitivity_is_skipped_without_its_table_and_a_bad_table_is_named(tables, tmp_path):
    with pytest.raises(FigureSkipped, match="sanity.encoder_sensitivity"):
        draw_figure("encoder_sensitivity", ReportInputs(tables, ReportOptions()))
    path = tmp_path / "bad.csv"
    pd.DataFrame({"generator": ["a"], "fid_inception": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="needs a `generator` column and two `fid_<encoder>` columns"):
        read_encoder_sensitivity(path)
