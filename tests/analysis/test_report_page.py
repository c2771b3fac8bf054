"""The report folder (figures, tables, the data as Parquet beside the CSV) and its self-contained HTML page;
`gan-report` from the command line. One file: the report these share is built once per test worker."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from saved_figures import inked_share, pdf_page_in_pixels
from synthetic_studies import evaluation_rows, tables_of, trial_rows, wide_search

from gan_study.analysis.cli import read_inputs, report_options
from gan_study.analysis.figures import available_figures
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.provenance import collect
from gan_study.analysis.report import build_report
from gan_study.study.hardware import HARDWARE_KEYS

EMBEDDED = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def test_report_data_as_parquet_equal_the_tables_it_was_built_from(built_report, small_inputs):
    data = built_report.folder / "data"
    for name, source in (("trials", small_inputs.tables.trials), ("evaluations", small_inputs.tables.evaluations)):
        table = pd.read_parquet(data / f"{name}.parquet")
        assert list(table.columns) == list(source.columns) and len(table) == len(source) > 0
        assert len(table) == len(pd.read_csv(data / f"{name}.csv"))
        for column in source.select_dtypes("number").columns:  # numbers stay numbers, value for value
            assert pd.api.types.is_numeric_dtype(table[column])
            pd.testing.assert_series_equal(table[column], source[column].reset_index(drop=True), check_names=False)


def test_every_figure_and_table_is_written(built_report):
    folder = built_report.folder
    assert list(built_report.figures) == available_figures() and not built_report.skipped
    for name in built_report.figures:
        png = Image.open(folder / "figures" / f"{name}.png")
        assert png.info["dpi"] == pytest.approx((150, 150), abs=0.1) and inked_share(png) > 0.01, name
        assert np.allclose(pdf_page_in_pixels(folder / "figures" / f"{name}.pdf", 150), png.size, rtol=0.03), name
    written = {table.name: table for table in built_report.tables}
    assert {"search_summary", "expected_best", "seed_table", "fid_bias_variance"} <= set(written)
    for name, table in written.items():
        pd.testing.assert_frame_equal(pd.read_csv(folder / "tables" / f"{name}.csv"), table.frame, check_dtype=False)
        markdown = (folder / "tables" / f"{name}.md").read_text().splitlines()
        assert markdown[0] == f"## {table.title}" and all(str(c) in markdown[2] for c in table.display.columns), name
    curves = pd.read_csv(folder / "tables" / "budget_curves.csv")
    assert set(curves["model"]) == {"ns_gan", "wgan_gp", "hinge_gan", "wgan"} and curves["k"].max() == 12
    assert len(pd.read_csv(folder / "data" / "trials.csv")) == 12 * 3 * 2 + 8 * 3 + 4 * 3 + 2 * 5


def test_page_embeds_every_figure_and_references_nothing_outside(built_report):
    page = built_report.page.read_text()
    images = EMBEDDED.findall(page)
    assert len(images) == len(built_report.figures)
    drawn = {built_report.figures[name]["png"].read_bytes() for name in built_report.figures}
    assert {base64.b64decode(data) for data in images} == drawn
    external = re.findall(r'(?:src|href)\s*=\s*"(?!data:|#|figures/|tables/)([^"]*)"', page)
    assert external == []
    assert "http://" not in page and "https://" not in page


def test_page_lists_diverged_and_failed_trials_with_their_reason(built_report, small_inputs):
    page = built_report.page.read_text()
    trials = small_inputs.tables.trials
    assert page.count("loss_d is nan at step 5000") == int((trials["status"] == "diverged").sum())
    assert page.count("Traceback: boom") == int((trials["status"] == "failed").sum()) > 0
    assert "Software" in page and np.__version__ in page


def test_skipped_figures_are_named_with_their_reason(tmp_path):
    trials, evaluations = wide_search("only_wide", ("mnist",), n=5, models=("ns_gan",))
    inputs = ReportInputs(tables_of((trials, evaluations)))
    result = build_report(inputs, tmp_path, figures=["budget_wide", "seeds"])
    assert list(result.figures) == ["budget_wide"]
    assert "no seed study" in result.skipped["seeds"]
    assert "no seed study" in result.page.read_text()


def test_provenance_reads_run_configs_and_metric_cards(tmp_path):
    card = {"network": "pt_inception-2015-12-05", "n": 10000}
    trials = trial_rows("prov", "ns_gan", "mnist", "wide", [3.0, 4.0])
    for run_dir in trials["run_dir"]:
        folder = tmp_path / "runs" / run_dir
        folder.mkdir(parents=True)
        (folder / "config.yaml").write_text("model:\n  name: ns_gan\n  lr: 5.0e-05\n")
        (folder / "record.json").write_text(json.dumps({"metric_cards": {"fid": card}}))
    inputs = ReportInputs(tables_of((trials, evaluation_rows(trials))))
    page = build_report(inputs, tmp_path / "report", figures=[], runs_root=tmp_path / "runs").page.read_text()
    assert "lr: 5.0e-05" in page and "pt_inception-2015-12-05" in page
    assert "Run folders read: 1; not found: 0" in page  # one representative (the default trial) per model


def test_provenance_counts_the_trials_on_each_kind_of_machine(tmp_path):
    zen4 = {"cpu": "AMD EPYC", "cpu_vendor": "AuthenticAMD", "cpu_family": 25, "cpu_model": 17, "cpu_stepping": 1,
            "cpu_flags": "avx avx2 avx512_bf16 avx512_vnni avx512f fma", "cpu_capability": "AVX512", "threads": 1,
            "accelerator": "cpu", "torch": "2.14.1", "onednn": "3.12.0", "mkl": "2024.2", "openblas": "0.3.30 Zen"}
    zen5 = {**zen4, "cpu_family": 26, "cpu_model": 2,
            "cpu_flags": "avx avx2 avx512_bf16 avx512_vnni avx512_vp2intersect avx512f fma"}
    recorded_before_the_kernels = {key: zen4[key] for key in ("cpu", "cpu_capability", "threads", "accelerator",
                                                              "torch")}
    machines = [zen4, zen4, zen5, recorded_before_the_kernels, None]  # the last: a record made before hardware
    trials = trial_rows("hw", "ns_gan", "triangles", "wide", [3.0, 4.0, 5.0, 6.0, 7.0])
    for run_dir, machine in zip(trials["run_dir"], machines):
        folder = tmp_path / "runs" / run_dir
        folder.mkdir(parents=True)
        (folder / "record.json").write_text(json.dumps({"hardware": machine} if machine else {}))
    inputs = ReportInputs(tables_of((trials, evaluation_rows(trials))))
    table = collect(inputs.tables, runs_root=tmp_path / "runs").hardware
    assert list(table.columns) == [*HARDWARE_KEYS, "trials"]
    assert table[["cpu_family", "cpu_flags", "trials"]].values.tolist() == [
        ["25", zen4["cpu_flags"], 2], ["26", zen5["cpu_flags"], 1], ["not recorded", "not recorded", 1]]
    page = build_report(inputs, tmp_path / "report", figures=[], runs_root=tmp_path / "runs").page.read_text()
    assert "<h3>Hardware</h3>" in page and "The trials ran on 3 kinds of machine." in page
    assert "avx512_vp2intersect" in page and "<th>onednn</th>" in page


def test_provenance_without_hardware_records_says_so(tmp_path):
    trials = trial_rows("old", "ns_gan", "triangles", "wide", [3.0])
    inputs = ReportInputs(tables_of((trials, evaluation_rows(trials))))
    page = build_report(inputs, tmp_path / "report", figures=[], runs_root=tmp_path / "runs").page.read_text()
    assert "No run record names its hardware" in page


def run_cli(*overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_study.analysis.cli", *overrides], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    trials, evaluations = wide_search("cli_study", ("mnist",), n=6, models=("ns_gan", "wgan"))
    trials.to_parquet(folder / "trials.parquet")
    evaluations.to_parquet(folder / "evaluations.parquet")
    return folder


def test_gan_report_writes_the_report_and_prints_a_summary(export_folder, tmp_path):
    out = tmp_path / "report"
    done = run_cli(f"export={export_folder}", f"out={out}", "bootstrap.resamples=200",
                   "figures=[budget_wide,wide_distributions,seeds]")
    assert done.returncode == 0, done.stderr
    assert f"report: {out / 'report.html'}" in done.stdout
    assert "2 figures, 1 skipped (seeds)" in done.stdout
    assert re.search(r"NS GAN\s+\S+ \(\d+/\d+ div\)", done.stdout)
    assert re.search(r"\n  budget 1 trial, WGAN vs NS GAN: P\(better\) ", done.stdout)  # the verdicts follow
    assert (out / "figures" / "budget_wide.png").exists() and (out / "report.html").exists()


def test_gan_report_names_a_bad_option_before_any_work(export_folder, tmp_path):
    done = run_cli(f"export={export_folder}", f"out={tmp_path / 'never'}", "figures=[budget_wide,pie_chart]")
    assert done.returncode == 2 and "figures = 'pie_chart' is not allowed: one of [" in done.stderr
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("override, message", [
    ("bootstrap.interval=iqr", "bootstrap.interval = 'iqr' is not allowed: one of ['sd', 'percentile']"),
    ("bootstrap.resamples=0", "bootstrap.resamples = 0 is not allowed: an integer >= 1"),
    ("bootstrap.method=jackknife", "bootstrap.method = 'jackknife' is not allowed: one of ['bootstrap', 'exact']"),
    ("score=median", "score = 'median' is not allowed: one of ['best', 'final']"),
    ("+directions={my_score: upward}", "directions.my_score = 'upward' is not allowed: one of ['minimize', 'maximize']"),
])
def test_report_options_name_the_bad_value(suite, override, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        report_options(suite.compose([override], config_name="report"))


def test_an_unknown_metric_is_named_with_the_available_ones(suite, export_folder):
    cfg = suite.compose([f"export={export_folder}", "metric=kid"], config_name="report")
    with pytest.raises(ValueError, match=re.escape("metric 'kid': no column best_kid in the trial table; "
                                                   "metrics: ['fid']")):
        read_inputs(cfg, report_options(cfg)).spec()


def test_the_page_never_shows_a_database_password(tmp_path):
    trials, evaluations = wide_search("secret", ("mnist",), n=3, models=("ns_gan",))
    tables = tables_of((trials, evaluations))
    tables.sources = ["postgresql+psycopg2://gan:hunter2@db.example:5432/gan_study#secret"]
    config = "storage:\n  url: postgresql+psycopg2://gan:hunter2@db.example:5432/gan_study\n"
    page = build_report(ReportInputs(tables), tmp_path, figures=[], report_config=config).page.read_text()
    assert "hunter2" not in page
    assert page.count("postgresql+psycopg2://gan:***@db.example:5432/gan_study") == 2
