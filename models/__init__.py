"""The fixed InfoGAN-style networks and the GAN losses of the study. No I/O, no configs.

The names below load on first use (PEP 562): importing a torch-free module of this package (`checks`,
`registry`) must not import torch, since reading results (gan-report) never needs it.
"""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "AutoEncoderDiscriminator": "began",
    "HEADS": "conditional", "ConditionalAutoEncoderDiscriminator": "conditional",
    "ConditionalDiscriminator": "conditional", "ConditionalGenerator": "conditional",
    "ConditionalVAEDecoder": "conditional", "ConditionalVAEEncoder": "conditional",
    "Discriminator": "infogan", "Generator": "infogan",
    "check_image_shape": "layers",
    "ConditionalLoss": "losses", "GANLoss": "losses", "LogitLoss": "losses", "LossOutput": "losses",
    "Networks": "losses", "Optimizers": "losses", "available_losses": "losses", "get_loss": "losses",
    "register_loss": "losses",
    "VAEDecoder": "vae", "VAEEncoder": "vae",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
