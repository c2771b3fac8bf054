"""gan-report writes the study tables as Parquet beside the CSV: the same rows, with their types kept."""
from __future__ import annotations

import pandas as pd


def test_report_data_as_parquet_equal_the_tables_it_was_built_from(built_report, small_inputs):
    data = built_report.folder / "data"
    for name, source in (("trials", small_inputs.tables.trials), ("evaluations", small_inputs.tables.evaluations)):
        table = pd.read_parquet(data / f"{name}.parquet")
        assert list(table.columns) == list(source.columns) and len(table) == len(source) > 0
        assert len(table) == len(pd.read_csv(data / f"{name}.csv"))
        for column in source.select_dtypes("number").columns:  # numbers stay numbers, value for value
            assert pd.api.types.is_numeric_dtype(table[column])
            pd.testing.assert_series_equal(table[column], source[column].reset_index(drop=True), check_names=False)
