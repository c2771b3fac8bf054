"""Sample grids as PNG files, without torchvision: importing it costs every trial process ~2 s of CPU (it loads
torch._dynamo), and a grid is a few lines of tiling. The layout and the bytes are torchvision's `make_grid` +
`save_image` (checked against them in tests/train/test_image_grid.py), so grids written before and after agree."""
from __future__ import annotations

import math
from pathlib import Path

import torch
from PIL import Image


def tile(images: torch.Tensor, per_row: int, padding: int = 2, pad_value: float = 0.5) -> torch.Tensor:
    """(N, C, H, W) images in [0, 1] → one (3, rows·(H+p)+p, cols·(W+p)+p) image, row by row, `padding` pixels
    of `pad_value` around each; grey images become RGB. A single image is returned as it is."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be (N, 1 or 3, H, W), got shape {tuple(images.shape)}")
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    if len(images) == 1:
        return images[0]
    columns = min(per_row, len(images))
    rows = math.ceil(len(images) / columns)
    height, width = images.shape[2] + padding, images.shape[3] + padding
    grid = images.new_full((3, rows * height + padding, columns * width + padding), pad_value)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * height + padding, column * width + padding
        grid[:, top:top + images.shape[2], left:left + images.shape[3]] = image
    return grid


def write_png(image: torch.Tensor, path: Path) -> None:
    """A (3, H, W) image in [0, 1] as an 8-bit RGB PNG, each value rounded to the nearest of 256 levels."""
    pixels = image.mul(255).add(0.5).clamp(0, 255).permute(1, 2, 0).to("cpu", torch.uint8).numpy()
    Image.fromarray(pixels).save(path, format="png")
