"""The loss registry and the eight losses of the study; importing this package registers the built-ins."""
from gan_study.models.losses.base import GANLoss, LossOutput, Networks, Optimizers
from gan_study.models.losses.conditional import ConditionalLoss
from gan_study.models.losses.logit_loss import LogitLoss
from gan_study.models.losses.registry import LossPluginError, available_losses, get_loss, register_loss

from gan_study.models.losses import mm_gan, ns_gan, wgan, wgan_gp, lsgan, dragan, began, vae  # noqa: E402,F401  (register)

__all__ = ["ConditionalLoss", "GANLoss", "LogitLoss", "LossOutput", "LossPluginError", "Networks", "Optimizers", "available_losses", "get_loss", "register_loss"]
