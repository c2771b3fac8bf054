"""Feature extractors for FID/IS/KID, chosen by `encoder:` (inception | vgg16_fc7 | domain_classifier | yours)."""
from gan_study.study.metrics.encoders.base import (Encoded, EncoderSetup, FeatureExtractor, available_encoders,
                                         build_encoder, register_encoder)
from gan_study.study.metrics.encoders import domain, inception, vgg  # noqa: F401  (built-ins register themselves)

__all__ = ["Encoded", "EncoderSetup", "FeatureExtractor", "available_encoders", "build_encoder",
           "register_encoder"]
