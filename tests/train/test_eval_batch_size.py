"""`eval.batch_size` is the batch of a run's metric passes (encoder features, classifier inference, generation)
unless a metric's own options name one."""
from __future__ import annotations

from gan_study.study.metrics.registry import build_run_metrics
from gan_study.study.train.run import TrainingRun
from gan_study.study.train.run_folder import RunFolder
from tests.train.test_run_identity import tiny


def test_a_metric_without_its_own_batch_size_takes_eval_batch_size():
    metrics = build_run_metrics({"fid": {}, "triangles_pr": {"n": 8, "batch_size": 3}}, batch_size=7)
    assert (metrics["fid"].batch_size, metrics["triangles_pr"].batch_size) == (7, 3)


def test_a_run_builds_its_metrics_with_eval_batch_size(data_root, tmp_path):
    run = TrainingRun(tiny(data_root, "eval.batch_size=7", "+eval.metrics.triangles_pr={n:8,recall:false}"),
                      RunFolder(tmp_path))
    assert run.metrics["triangles_pr"].batch_size == 7  # its own default is 500
