"""The FID sanity experiments' tables: FID between two real sample sets (bias/variance) and mode dropping.

Inputs are the per-draw CSV (or Parquet) files that `gan-fid-experiments` writes (study/cli/fid_experiments.py):
* bias/variance: `dataset, fid` (+ `encoder, n, draw, ...`) — FID between two real sets of one data set;
* mode dropping: `dataset, k, fid` (+ `encoder, n, repeat, is, ...`) — FID of real sets keeping only
  the first k classes against the reference;
* split sensitivity: `dataset, fid` (+ `encoder, n, draw, partition`) — FID between the parts of random 6:1
  partitions of all images;
* encoder sensitivity: `generator` and two or more `fid_<encoder>` columns — FID of trained generators under
  each encoder.
The summaries (mean, sd with ddof = 1, count) are computed here from the draws, per data set and, where
the columns exist, per encoder and sample size n.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

BIAS_VARIANCE_COLUMNS = ("dataset", "fid")
MODE_DROPPING_COLUMNS = ("dataset", "k", "fid")
SETUP_COLUMNS = ("encoder", "n")
"""Columns that tell apart draws made differently: summaries never mix them."""


def _read(path: str | Path, required: Sequence[str], kind: str) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{kind} table {path} does not exist")
    table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: the {kind} table lacks column(s) {missing}; required: {list(required)}")
    table["dataset"] = table["dataset"].astype(str)
    return table


def read_bias_variance(path: str | Path) -> pd.DataFrame:
    return _read(path, BIAS_VARIANCE_COLUMNS, "FID bias/variance")


def read_mode_dropping(path: str | Path) -> pd.DataFrame:
    return _read(path, MODE_DROPPING_COLUMNS, "mode dropping")


def read_split_sensitivity(path: str | Path) -> pd.DataFrame:
    return _read(path, BIAS_VARIANCE_COLUMNS, "FID split sensitivity")


AUGMENTATION_COLUMNS = ("dataset", "n_real", "ratio", "accuracy")


def read_augmentation(path: str | Path) -> pd.DataFrame:
    """The curve `python -m gan_study.study.cli.augmentation` writes (one row per generated:real ratio)."""
    return _read(path, AUGMENTATION_COLUMNS, "data-augmentation")


TSNE_COLUMNS = ("dataset", "run", "source", "label", "x", "y")


def read_tsne(path: str | Path) -> pd.DataFrame:
    """The embedding `python -m gan_study.study.cli.tsne` writes (one row per real or generated image)."""
    return _read(path, TSNE_COLUMNS, "t-SNE")


def read_encoder_sensitivity(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"encoder sensitivity table {path} does not exist")
    table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    encoders = [c for c in table.columns if c.startswith("fid_")]
    if "generator" not in table.columns or len(encoders) < 2:
        raise ValueError(f"{path}: the encoder sensitivity table needs a `generator` column and two `fid_<encoder>` "
                         f"columns (gan-fid-experiments encoder-sensitivity); it has {list(table.columns)}")
    return table


def setup_columns(draws: pd.DataFrame) -> list[str]:
    return ["dataset"] + [c for c in SETUP_COLUMNS if c in draws.columns]


def summarise(draws: pd.DataFrame, by: list[str], values: Sequence[str]) -> pd.DataFrame:
    """Mean, sd (ddof = 1) and count of each value column per group."""
    grouped = draws.groupby(by, sort=False)
    parts = {"count": grouped.size()}
    for value in values:
        parts[f"{value}_mean"] = grouped[value].mean()
        parts[f"{value}_sd"] = grouped[value].std(ddof=1)
    return pd.DataFrame(parts).reset_index()


def bias_variance_summary(draws: pd.DataFrame) -> pd.DataFrame:
    return summarise(draws, setup_columns(draws), ["fid"])


def mode_dropping_summary(draws: pd.DataFrame) -> pd.DataFrame:
    values = ["fid"] + (["is"] if "is" in draws.columns else [])
    by = setup_columns(draws) + ["k"]
    return summarise(draws, by, values).sort_values(by).reset_index(drop=True)
