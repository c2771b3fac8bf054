"""One pass of an encoder over images (real, or generated from the fixed evaluation latents).

Generated images are never all held at once: each batch is generated, preprocessed and encoded, and
only its features are kept. TF32 is switched off during the pass so features are true float32 on
every GPU (PyTorch lets cuDNN use TF32 convolutions by default).
"""
from __future__ import annotations

import contextlib
import logging
import time
from typing import Callable, Iterator

import torch

from gan_study.study.data.image_set import as_unit_float
from gan_study.study.metrics.encoders.base import Encoded, FeatureExtractor
from gan_study.study.metrics.preprocess import quantize_to_uint8_levels

log = logging.getLogger("gan_study.metrics")

PROGRESS_EVERY_S = 30.0


@contextlib.contextmanager
def full_float32() -> Iterator[None]:
    """No TF32 in matmuls or convolutions inside the block (restored afterwards)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@torch.no_grad()
def encode_batches(encoder: FeatureExtractor, n: int, batch_size: int, batch: Callable[[int, int], torch.Tensor],
                   what: str) -> Encoded:
    """Encode n images given by `batch(start, stop)` (float [0, 1], on the encoder's device), logging progress."""
    features, logits = [], []
    started = last_report = time.perf_counter()
    with full_float32():
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            encoded = encoder.encode(batch(start, stop))
            features.append(encoded.features.float().cpu())
            if encoded.logits is not None:
                logits.append(encoded.logits.float().cpu())
            now = time.perf_counter()
            if now - last_report >= PROGRESS_EVERY_S and stop < n:
                rate = stop / (now - started)
                log.info("%s features: %d/%d images, %.1f img/s, ETA %.0f s", what, stop, n, rate, (n - stop) / rate)
                last_report = now
    return Encoded(torch.cat(features), torch.cat(logits) if logits else None)


def encode_images(encoder: FeatureExtractor, images: torch.Tensor, device: torch.device, batch_size: int,
                  what: str) -> Encoded:
    """Features of stored images (uint8 [0, 255] or float [0, 1], NCHW, any device)."""

    def batch(start: int, stop: int) -> torch.Tensor:
        return as_unit_float(images[start:stop].to(device))

    return encode_batches(encoder, len(images), batch_size, batch, what)


def encode_generator(encoder: FeatureExtractor, generator: torch.nn.Module, latents: torch.Tensor,
                     device: torch.device, batch_size: int, quantize: bool, what: str = "generated",
                     keep_images: list[torch.Tensor] | None = None) -> Encoded:
    """Features of generator(latents), batch by batch; `quantize` snaps images to 8-bit levels first.
    `keep_images` (a list) receives each batch of the encoded images on the CPU (pixel measures, e.g. SWD)."""

    def batch(start: int, stop: int) -> torch.Tensor:
        images = generator(latents[start:stop].to(device)).float()
        images = quantize_to_uint8_levels(images) if quantize else images
        if keep_images is not None:
            keep_images.append(images.cpu())
        return images

    return encode_batches(encoder, len(latents), batch_size, batch, what)
