"""The study's VAE baseline (docs/protocol.md#architecture, #losses): encoder in the D slot, decoder in the G slot."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from gan_study.models.losses.base import GANLoss, LossOutput, Networks, Optimizers
from gan_study.models.losses.functional import bernoulli_nll, gaussian_kl
from gan_study.models.losses.registry import register_loss
from gan_study.models.vae import VAEDecoder, VAEEncoder


@register_loss("vae")
class VAE(GANLoss):
    """Loss = NLL + KL, minimised by one joint update of encoder and decoder per step; n_disc is ignored.

    The trainer gives the decoder and the encoder one Adam each, with the same lr and β. Adam is
    elementwise, so two Adams over a partition of the parameters take exactly the steps of the code's
    single Adam over all of them. The decoder always uses ReLU, as coded, whatever `generator_activation`
    says. z ~ N(0, I) is the prior for sampling; in training z comes from the encoder.
    """

    prior = "normal"

    def build_networks(self, image_shape: tuple[int, int, int], z_dim: int, discriminator_batchnorm: bool,
                       generator_activation: str) -> Networks:
        return Networks(VAEDecoder(image_shape, z_dim), VAEEncoder(image_shape, z_dim, discriminator_batchnorm))

    def draw_noise(self, real: Tensor, z: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """ε of the reparameterisation, one per latent (z's shape: batch × z_dim)."""
        return {"epsilon": torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)}

    def objective(self, nets: Networks, real: Tensor, draws: dict[str, Tensor] | None = None) -> LossOutput:
        """NLL + KL on one reparameterised draw z = μ + σ·ε (ε drawn here unless given in `draws`)."""
        mean, sigma = nets.discriminator(real)
        epsilon = (draws or {}).get("epsilon")
        reconstructions = nets.generator(mean + sigma * (torch.randn_like(mean) if epsilon is None else epsilon))
        nll, kl = bernoulli_nll(real, reconstructions), gaussian_kl(mean, sigma)
        return LossOutput(nll + kl, {"nll": nll, "kl": kl})

    def discriminator_loss(self, nets: Networks, real: Tensor, z: Tensor) -> LossOutput:
        """The VAE has one objective; both slots report it."""
        return self.objective(nets, real)

    def generator_loss(self, nets: Networks, real: Tensor, z: Tensor) -> LossOutput:
        return self.objective(nets, real)

    def train_step(self, nets: Networks, optimizers: Optimizers, real: Tensor, z: Tensor, update_generator: bool,
                   sample_z: Callable[[], Tensor]) -> dict[str, Tensor]:
        optimizers.discriminator.zero_grad(set_to_none=True)
        optimizers.generator.zero_grad(set_to_none=True)
        loss, logs = self.objective(nets, real)
        loss.backward()
        optimizers.discriminator.step()
        optimizers.generator.step()
        total = loss.detach()
        return {"loss_d": total, "loss_g": total, "loss_vae": total, **{k: v.detach() for k, v in logs.items()}}
