"""A tiny real Triangles run leaves `measures/triangles_pr.npz` in its run folder, holding the last evaluation's
per-sample distances: with shown = n / 2 its two ends are all n distances, so they reproduce metrics.csv's values."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from gan_study.study.config import validate
from gan_study.study.train import run_training
from tests.conftest import compose


def test_a_real_run_writes_the_last_evaluations_distances(data_root, tmp_path):
    cfg = validate(compose(["dataset=triangles", "train=tiny", "model=ns_gan", f"data_root={data_root}", "eval=none",
                            "+eval.metrics.triangles_pr={n:16,shown:8,recall_pool:16,recall_steps:2}"]))
    assert run_training(cfg, tmp_path).status == "completed"
    with (tmp_path / "metrics.csv").open(newline="") as handle:
        last = list(csv.DictReader(handle))[-1]
    saved = np.load(tmp_path / "measures" / "triangles_pr.npz")
    for side in ("precision", "recall"):
        distances = np.concatenate((saved[f"{side}_best_distances"], saved[f"{side}_worst_distances"]))
        assert len(distances) == 16 and np.all(np.diff(distances) >= 0)  # every sample once, nearest first
        assert float(last[f"{side}_median_distance"]) == pytest.approx(distances[7], rel=1e-6)  # torch: lower middle
        assert float(last[side]) == np.mean(distances < 0.75)
        assert saved[f"{side}_best_images"].shape == (8, 1, 28, 28)
    assert float(saved["delta"]) == 0.75
