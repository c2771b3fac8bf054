"""Class-conditional versions of the study's networks (not in the paper, off by default): the class label enters G, D and the VAE.

Each conditional network is its unconditional counterpart plus the weights the label needs, so its
parameter count is the unconditional one plus a closed-form addition. G and the VAE decoder take
z ⊕ one-hot(y). D gets a head on its 1024-d trunk features: an AC-GAN classifier (class logits beside the
unchanged real/fake logit) or a projection (logit += <embed(y), φ(x)>, Miyato & Koyama 2018). A network
in D's slot returns `(output, class_logits | None)`: its unconditional output and the class logits of an
AC-GAN head, so a loss wrapper can add the class loss without another forward pass.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_study.models.began import CODE_DIM, AutoEncoderDiscriminator, autoencoder_encoder
from gan_study.models.checks import choice, integer
from gan_study.models.infogan import Discriminator, Generator, discriminator_trunk
from gan_study.models.layers import check_image_shape, init_weight, linear, upsampling_decoder
from gan_study.models.vae import VAEDecoder, VAEEncoder, gaussian_moments

HEADS = ("acgan", "projection")
TRUNK_FEATURES = 1024


def with_one_hot(values: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """(N, d) values ⊕ one-hot(labels), (N, d + K): how a label enters a fully connected layer.

    The one-hot rows are a comparison with the class numbers, not `F.one_hot`, which reads the labels back to
    check them and so cannot run inside torch.func.vmap (batched trials)."""
    one_hot = labels.unsqueeze(-1) == torch.arange(num_classes, device=labels.device)
    return torch.cat([values, one_hot.to(values.dtype)], dim=1)


class ClassifierHead(nn.Module):
    """AC-GAN (Odena et al. 2017): class logits from D's features; the real/fake logit is left as it is."""

    def __init__(self, features: int, num_classes: int):
        super().__init__()
        self.classes = linear(features, num_classes)

    def forward(self, logit: Tensor, features: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        return logit, self.classes(features)


class ProjectionHead(nn.Module):
    """Projection discriminator (Miyato & Koyama 2018): ℓ(x, y) = ℓ(x) + <embed(y), φ(x)>; no class logits."""

    def __init__(self, features: int, num_classes: int):
        super().__init__()
        self.embedding = nn.Embedding(num_classes, features)
        init_weight(self.embedding.weight)

    def forward(self, logit: Tensor, features: Tensor, labels: Tensor) -> tuple[Tensor, None]:
        return logit + (self.embedding(labels) * features).sum(dim=1), None


def discriminator_head(head: str, features: int, num_classes: int) -> nn.Module:
    return (ClassifierHead if choice("head", head, HEADS) == "acgan" else ProjectionHead)(features, num_classes)


class ConditionalGenerator(Generator):
    """(z, y) → images: G whose first fc layer takes z ⊕ one-hot(y), z_dim + K inputs (K·1024 more weights)."""

    def __init__(self, image_shape: tuple[int, int, int], z_dim: int, activation_name: str, num_classes: int):
        super().__init__(image_shape, integer("z_dim", z_dim, 1) + integer("num_classes", num_classes, 1),
                         activation_name)
        self.z_dim, self.num_classes = z_dim, num_classes

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return super().forward(with_one_hot(z, labels, self.num_classes))


class ConditionalVAEDecoder(VAEDecoder):
    """The conditional VAE's decoder: VAEDecoder over z ⊕ one-hot(y) (K·1024 more weights)."""

    def __init__(self, image_shape: tuple[int, int, int], z_dim: int, num_classes: int):
        super().__init__(image_shape, integer("z_dim", z_dim, 1) + integer("num_classes", num_classes, 1))
        self.z_dim, self.num_classes = z_dim, num_classes

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return super().forward(with_one_hot(z, labels, self.num_classes))


class ConditionalDiscriminator(Discriminator):
    """(images, y) → (ℓ(x) or ℓ(x, y), class logits or None): the InfoGAN D with a head on its trunk features.

    acgan adds 1024·K + K parameters, projection 1024·K.
    """

    def __init__(self, image_shape: tuple[int, int, int], batchnorm: bool, num_classes: int, head: str = "acgan"):
        super().__init__(image_shape, batchnorm)
        self.num_classes = integer("num_classes", num_classes, 1)
        self.head = discriminator_head(head, TRUNK_FEATURES, num_classes)

    def forward(self, images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor | None]:
        features = self.trunk(images)
        return self.head(self.logit(features).squeeze(1), features, labels)


class ConditionalAutoEncoderDiscriminator(nn.Module):
    """BEGAN's auto-encoder D, conditional: (images, y) → (AE(x), class logits or None).

    An auto-encoder has no logit to project, so the heads mean: acgan, a classifier on the 64-d code
    (64·K + K parameters); projection, the decoder reconstructs from code ⊕ one-hot(y), so D's energy
    (the reconstruction error) depends on the class (128·H/4·W/4·K more weights in the decoder's fc).
    """

    def __init__(self, image_shape: tuple[int, int, int], batchnorm: bool, num_classes: int, head: str = "acgan"):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        self.num_classes = integer("num_classes", num_classes, 1)
        label_inputs = num_classes if choice("head", head, HEADS) == "projection" else 0
        self.encoder = autoencoder_encoder(self.image_shape, batchnorm)
        self.decoder = upsampling_decoder(CODE_DIM + label_inputs, self.image_shape, batchnorm, "lrelu")
        self.classes = linear(CODE_DIM, num_classes) if head == "acgan" else None

    def forward(self, images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor | None]:
        code = self.encoder(images)
        if self.classes is not None:
            return torch.sigmoid(self.decoder(code)), self.classes(code)
        return torch.sigmoid(self.decoder(with_one_hot(code, labels, self.num_classes))), None


class ConditionalVAEEncoder(nn.Module):
    """(images, y) → ((μ, σ), None): the VAE encoder with one-hot(y) beside the 1024-d trunk features.

    The moments layer takes 1024 + K inputs (2·z_dim·K more weights).
    """

    def __init__(self, image_shape: tuple[int, int, int], z_dim: int, batchnorm: bool, num_classes: int):
        super().__init__()
        self.z_dim, self.num_classes = integer("z_dim", z_dim, 1), integer("num_classes", num_classes, 1)
        self.trunk = discriminator_trunk(image_shape, batchnorm)
        self.moments = linear(TRUNK_FEATURES + num_classes, 2 * z_dim)

    def forward(self, images: Tensor, labels: Tensor) -> tuple[tuple[Tensor, Tensor], None]:
        features = with_one_hot(self.trunk(images), labels, self.num_classes)
        return gaussian_moments(self.moments(features), self.z_dim), None


class BalancedClassGenerator(nn.Module):
    """z → G(z, y) with y = 0, 1, ..., K−1, 0, ... along the batch: a conditional G seen as a plain one.

    So metrics of unconditional generators (FID, IS) are defined for a conditional model, on a class mix as
    balanced as the batch allows.
    """

    def __init__(self, generator: nn.Module, num_classes: int):
        super().__init__()
        self.generator, self.num_classes = generator, integer("num_classes", num_classes, 1)

    def forward(self, z: Tensor) -> Tensor:
        return self.generator(z, torch.arange(len(z), device=z.device) % self.num_classes)


def conditional_counterpart(network: nn.Module, image_shape: tuple[int, int, int], z_dim: int,
                            discriminator_batchnorm: bool, generator_activation: str, num_classes: int,
                            head: str) -> nn.Module:
    """The conditional network standing in for `network` (one a loss's `build_networks` made), same arguments.

    Matched on the exact type, so a loss on the study's networks is conditional without knowing it.
    """
    kind = type(network)
    if kind is Generator:
        return ConditionalGenerator(image_shape, z_dim, generator_activation, num_classes)
    if kind is VAEDecoder:
        return ConditionalVAEDecoder(image_shape, z_dim, num_classes)
    if kind is Discriminator:
        return ConditionalDiscriminator(image_shape, discriminator_batchnorm, num_classes, head)
    if kind is AutoEncoderDiscriminator:
        return ConditionalAutoEncoderDiscriminator(image_shape, discriminator_batchnorm, num_classes, head)
    if kind is VAEEncoder:
        return ConditionalVAEEncoder(image_shape, z_dim, discriminator_batchnorm, num_classes)
    known = (Generator, VAEDecoder, Discriminator, AutoEncoderDiscriminator, VAEEncoder)
    raise TypeError(f"no class-conditional version of {kind.__module__}.{kind.__qualname__}; "
                     f"allowed: losses built on {', '.join(k.__name__ for k in known)}")
