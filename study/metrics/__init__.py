"""The metric registry and the built-in metrics (docs/architecture.md, Contract 3; docs/metrics.md)."""
from gan_study.study.metrics.base import EvalContext, Metric
from gan_study.study.metrics.registry import available_metrics, build_metric, get_metric, register_metric
from gan_study.study.metrics.encoders import available_encoders, build_encoder, register_encoder
from gan_study.study.metrics.fid import frechet_distance
from gan_study.study.metrics import fid_metric, gan_train_test, triangles_pr  # noqa: F401  (built-ins register themselves)

__all__ = ["EvalContext", "Metric", "available_encoders", "available_metrics", "build_encoder", "build_metric",
           "frechet_distance", "get_metric", "register_encoder", "register_metric"]
