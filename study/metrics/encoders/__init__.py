"""Feature extractors for FID/IS/KID, chosen by `encoder:` (inception | vgg16_fc7 | domain_classifier | yours)."""
from study.metrics.encoders.base import (Encoded, EncoderSetup, FeatureExtractor, available_encoders,
                                         build_encoder, register_encoder)
from study.metrics.encoders import domain, inception, vgg  # noqa: F401  (built-ins register themselves)

__all__ = ["Encoded", "EncoderSetup", "FeatureExtractor", "available_encoders", "build_encoder",
           "register_encoder"]
