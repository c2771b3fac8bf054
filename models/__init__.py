"""The fixed InfoGAN-style networks and the GAN losses of the study. No I/O, no configs."""
from gan_study.models.began import AutoEncoderDiscriminator
from gan_study.models.conditional import (HEADS, ConditionalAutoEncoderDiscriminator, ConditionalDiscriminator,
                                ConditionalGenerator, ConditionalVAEDecoder, ConditionalVAEEncoder)
from gan_study.models.infogan import Discriminator, Generator
from gan_study.models.layers import check_image_shape
from gan_study.models.losses import ConditionalLoss, GANLoss, LogitLoss, LossOutput, Networks, Optimizers, available_losses, get_loss, register_loss
from gan_study.models.vae import VAEDecoder, VAEEncoder

__all__ = [
    "HEADS", "ConditionalAutoEncoderDiscriminator", "ConditionalDiscriminator", "ConditionalGenerator",
    "ConditionalLoss", "ConditionalVAEDecoder", "ConditionalVAEEncoder",
    "AutoEncoderDiscriminator", "Discriminator", "Generator", "VAEDecoder", "VAEEncoder", "check_image_shape",
    "GANLoss", "LogitLoss", "LossOutput", "Networks", "Optimizers", "available_losses", "get_loss", "register_loss",
]
