"""Sliced Wasserstein distance between image sets (Karras et al., ICLR 2018, the progressive-GAN metric).

Per level of a Laplacian pyramid (5×5 binomial filter, mirrored edges, as cv2.pyrDown/pyrUp; one level
per resolution from the image size down to 16, halving): 128 random 7×7 neighbourhoods per image, each
channel normalised to mean 0 and sd 1 over the set's descriptors, then the 1-D Wasserstein-1 distances
of the sorted projections on random unit directions (4 repeats × 128, the same for every level), averaged, reported ×10³ per
resolution (`swd_32`, `swd_16` on 32×32 images, as Shmelkov et al.'s tables) and their mean (`swd_avg`).

Pixel-based, not feature-based: it reads the generated images of the FID pass (no second generation).
Both sets use the same number of images (the smaller one). Randomness comes from one seeded generator,
drawn in this order: real positions level by level, generated positions level by level, directions.
"""
from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from gan_study.models.checks import integer
from gan_study.study.data.image_set import as_unit_float
from gan_study.study.metrics.measures import Measure, MeasureInputs, register_measure, reject_unknown

NEIGHBOURHOOD = 7
PER_IMAGE = 128
REPEATS = 4
DIRECTIONS = 128
DIRECTIONS_PER_BLOCK = 16
PATCH_BLOCK = 65536
MIN_RESOLUTION = 16
BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def resolutions(size: int) -> list[int]:
    """The pyramid's resolutions: size, size // 2, ... while >= 16 (Karras et al.)."""
    levels = []
    while size >= MIN_RESOLUTION:
        levels.append(size)
        size //= 2
    return levels


def _blur(images: torch.Tensor, gain: float) -> torch.Tensor:
    channels = images.shape[1]
    kernel = (torch.outer(BINOMIAL, BINOMIAL) * gain).to(images)[None, None].repeat(channels, 1, 1, 1)
    return F.conv2d(F.pad(images, (2, 2, 2, 2), mode="reflect"), kernel, groups=channels)


def laplacian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """[L_0 (full size), ..., L_{levels-1} (the coarsest Gaussian level)] of (n, c, h, w) float images."""
    pyramid = [images.float()]
    for _ in range(1, levels):
        down = _blur(pyramid[-1], 1.0)[:, :, ::2, ::2]
        spread = torch.zeros(*down.shape[:2], down.shape[2] * 2, down.shape[3] * 2, dtype=down.dtype,
                             device=down.device)
        spread[:, :, ::2, ::2] = down
        up = _blur(spread, 4.0)[:, :, :pyramid[-1].shape[2], :pyramid[-1].shape[3]]
        pyramid[-1] = pyramid[-1] - up
        pyramid.append(down)
    return pyramid


def draw_positions(n_images: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """(n_images × PER_IMAGE, 2) neighbourhood centres (row, column), at least 3 pixels from every edge."""
    half = NEIGHBOURHOOD // 2
    rows = torch.randint(half, height - half, (n_images * PER_IMAGE,), generator=generator)
    columns = torch.randint(half, width - half, (n_images * PER_IMAGE,), generator=generator)
    return torch.stack([rows, columns], dim=1)


def descriptors(level: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """(n × PER_IMAGE, 7 × 7 × c) neighbourhoods of one level at `positions` (row, column, channel order),
    each channel normalised to mean 0, sd 1 over the set's neighbourhoods. Gathered PATCH_BLOCK at a time
    into one output (the int64 gather indices of all 1.28M neighbourhoods alone would take 500 MB)."""
    half = NEIGHBOURHOOD // 2
    n, channels, height, width = level.shape
    offsets = torch.arange(-half, half + 1, device=level.device)
    positions = positions.to(level.device)
    pixels = level.permute(0, 2, 3, 1).reshape(-1, channels)  # one row per pixel
    patches = torch.empty(len(positions), NEIGHBOURHOOD, NEIGHBOURHOOD, channels, dtype=level.dtype,
                          device=level.device)
    for start in range(0, len(positions), PATCH_BLOCK):
        block = positions[start:start + PATCH_BLOCK]
        image = torch.arange(start, start + len(block), device=level.device) // PER_IMAGE
        rows = (block[:, 0, None] + offsets[None, :])[:, :, None]     # (B, 7, 1)
        columns = (block[:, 1, None] + offsets[None, :])[:, None, :]  # (B, 1, 7)
        patches[start:start + len(block)] = pixels[(image[:, None, None] * height + rows) * width + columns]
    mean = patches.mean(dim=(0, 1, 2))
    sd = patches.std(dim=(0, 1, 2), unbiased=False)
    return patches.sub_(mean).div_(sd).reshape(len(patches), -1)


def draw_directions(dims: int, generator: torch.Generator) -> torch.Tensor:
    """(REPEATS, dims, DIRECTIONS) random unit vectors."""
    directions = torch.randn(REPEATS, dims, DIRECTIONS, generator=generator)
    return directions / directions.norm(dim=1, keepdim=True)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: torch.Tensor) -> float:
    """Mean over repeats and directions of the W1 distance of the 1-D projections (equal sample sizes).
    Directions are projected DIRECTIONS_PER_BLOCK at a time: a block's sorted projections (and sort indices)
    of 1.28M neighbourhoods take ~330 MB, all 128 at once ~2.6 GB."""
    total = 0.0
    for repeat in directions.to(a.device, a.dtype):
        for block in repeat.split(DIRECTIONS_PER_BLOCK, dim=1):
            projected_a = (block.T @ a.T).sort(dim=1).values  # (directions, N): rows sort contiguously
            projected_b = (block.T @ b.T).sort(dim=1).values
            total += float((projected_a - projected_b).abs().mean(dim=1).sum())
    return total / (directions.shape[0] * directions.shape[2])


def sliced_wasserstein_distances(real: torch.Tensor, fake: torch.Tensor, seed: int = 0) -> dict[int, float]:
    """Resolution -> SWD × 10³ between two (n, c, h, w) image sets of one shape (the first min(n) of each)."""
    if real.ndim != 4 or real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"swd needs two (n, c, h, w) image sets of one shape, got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")
    levels = resolutions(min(real.shape[2:]))
    if not levels:
        raise ValueError(f"swd needs images of at least {MIN_RESOLUTION}×{MIN_RESOLUTION}, got {tuple(real.shape[2:])}")
    n = min(len(real), len(fake))
    generator = torch.Generator().manual_seed(seed)
    pyramids = [laplacian_pyramid(images[:n], len(levels)) for images in (real, fake)]
    positions = [[draw_positions(n, *level.shape[2:], generator) for level in pyramid] for pyramid in pyramids]
    directions = draw_directions(real.shape[1] * NEIGHBOURHOOD ** 2, generator)
    values = {}
    for index, resolution in enumerate(levels):
        a = descriptors(pyramids[0][index], positions[0][index])
        b = descriptors(pyramids[1][index], positions[1][index])
        values[resolution] = 1e3 * sliced_wasserstein(a, b, directions)
    return values


@register_measure("swd")
class SWD(Measure):
    """`swd_<resolution>` (× 10³) for each pyramid resolution of the data set's images and `swd_avg`; option seed.

    Which resolutions exist depends on the image size (32×32: swd_32, swd_16; 64×64: + swd_64; 28×28: swd_28
    only), so every resolution 16 … 1024 is declared an objective; a study scored by one the images lack fails
    at its first evaluation."""

    needs_images = True
    feature_based = False
    objectives = {"swd_avg": "minimize", **{f"swd_{2 ** p}": "minimize" for p in range(4, 11)}}

    def __init__(self, seed: int = 0, **unknown: Any):
        reject_unknown(SWD, unknown)
        self.seed = integer("measures.swd.seed", seed, 0)
        self.last: dict[str, Any] = {}

    def evaluate(self, inputs: MeasureInputs) -> dict[str, float]:
        real = as_unit_float(inputs.real_images.images)
        values = sliced_wasserstein_distances(real, inputs.fake_images, self.seed)
        self.last = {"n_images_per_set": min(len(real), len(inputs.fake_images)), "resolutions": list(values)}
        return {**{f"swd_{resolution}": value for resolution, value in values.items()},
                "swd_avg": sum(values.values()) / len(values)}

    def card(self) -> dict[str, Any]:
        return {"reference": "Karras et al., Progressive Growing of GANs, ICLR 2018 (metrics/sliced_wasserstein.py); "
                             "tables as Shmelkov et al., How good is my GAN?, ECCV 2018",
                "pyramid": "Laplacian, 5x5 binomial filter, mirrored edges, resolutions from the image size down to 16",
                "neighbourhoods": f"{PER_IMAGE} random {NEIGHBOURHOOD}x{NEIGHBOURHOOD} per image and level",
                "normalisation": "per channel over each set's neighbourhoods",
                "projections": f"{REPEATS} x {DIRECTIONS} random unit directions (the same for every level)",
                "scale": "x 1e3", "seed": self.seed,
                "images": "pixels of the reference images and of the FID pass's generated images, [0, 1]", **self.last}
