"""TensorFlow 1's bilinear resize, which the paper's code used, in torch.

TF1's `tf.image.resize_images(..., BILINEAR)` / `resize_bilinear(align_corners=False)` samples output
pixel i at input coordinate `i * in_size / out_size` (no half-pixel centres, no antialiasing), unlike
torch's `interpolate` and PIL, which sample at `(i + 0.5) * in/out - 0.5` and (PIL) low-pass first. For a
160 -> 64 downscale that shifts the image by 0.75 input pixels and changes its sharpness, so data and FID
inputs meant to match the paper use this one.
"""
from __future__ import annotations

import torch


def tf1_resize_bilinear(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(..., H, W) images (any real dtype) resized to `size` = (out_h, out_w) exactly as TF1 does, in float32."""
    out_h, out_w = size
    in_h, in_w = images.shape[-2:]
    top, bottom, y_lerp = _sample_positions(in_h, out_h, images.device)
    left, right, x_lerp = _sample_positions(in_w, out_w, images.device)
    # TF interpolates along x first (in the top and bottom rows), then along y; keep its order of operations.
    # Gathering before the float conversion converts only the pixels that are sampled.
    corners = [images.index_select(-2, rows).index_select(-1, columns).float()
               for rows in (top, bottom) for columns in (left, right)]
    top_left, top_right, bottom_left, bottom_right = corners
    top_mix = top_left + (top_right - top_left) * x_lerp
    bottom_mix = bottom_left + (bottom_right - bottom_left) * x_lerp
    return top_mix + (bottom_mix - top_mix) * y_lerp[:, None]


def _sample_positions(in_size: int, out_size: int, device: torch.device):
    """Lower and upper input index and interpolation weight of each output position along one axis."""
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    position = torch.arange(out_size, dtype=torch.float32) * scale
    lower = position.floor()
    upper = torch.clamp(position.ceil(), max=in_size - 1)
    return lower.long().to(device), upper.long().to(device), (position - lower).to(device)
