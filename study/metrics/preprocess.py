"""Image preprocessing in front of the feature networks, as the paper's TensorFlow evaluation did it.

The paper (compare_gan v1, docs/protocol.md#fid-protocol) fed float images in [0, 255], grayscale tiled to three
channels, through TF1 `tf.image.resize_bilinear(images, [299, 299])` (align_corners=False and, in TF1,
no half-pixel centres) and then (x − 128)/128. TF1's sampling grid is *not* PyTorch's
`F.interpolate(mode="bilinear", align_corners=False)`, which samples at half-pixel centres
(src = (dst + ½)·in/out − ½; pytorch-fid uses that). TF1 samples at src = dst·in/out, so the output
starts exactly on the first input pixel and runs off the end, where the last pixel is repeated.
The TF1 resize is the data package's (`gan_study.study.data.tf_resize`), which CelebA's preprocessing also uses.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_study.models.checks import choice
from gan_study.study.data.tf_resize import tf1_resize_bilinear

RESIZE_DESCRIPTIONS = {
    "tf1": "TF1 resize_bilinear (align_corners=False, half_pixel_centers=False: src = dst*in/out), no antialias",
    "torch": "torch F.interpolate bilinear (align_corners=False: half-pixel centres, as pytorch-fid), no antialias",
}
RESIZE_MODES = tuple(RESIZE_DESCRIPTIONS)


def resize(images: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    """Bilinear resize to size×size by the named sampling grid (see RESIZE_MODES); no antialiasing."""
    if choice("resize", mode, RESIZE_MODES) == "tf1":
        return tf1_resize_bilinear(images, (size, size))
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=False)


def tile_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """Grayscale (N, 1, H, W) tiled to three identical channels (the paper's np.tile); RGB unchanged."""
    channels = images.shape[1]
    if channels == 3:
        return images
    if channels == 1:
        return images.expand(-1, 3, -1, -1)
    raise ValueError(f"images must have 1 or 3 channels, got shape {tuple(images.shape)}")


def quantize_to_uint8_levels(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] images snapped to the 256 levels a saved 8-bit PNG would hold (clamp, ×255, round half up,
    as torchvision.utils.save_image), returned as floats in [0, 1]."""
    return torch.floor(images.clamp(0.0, 1.0) * 255.0 + 0.5) / 255.0


def inception_input(images: torch.Tensor, resize_mode: str = "tf1", size: int = 299) -> torch.Tensor:
    """[0, 1] images → the FID Inception's input, as the paper: ×255, tile to RGB, resize to 299, (x − 128)/128."""
    scaled = tile_to_rgb(images.float()) * 255.0
    return (resize(scaled, size, resize_mode) - 128.0) / 128.0


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_input(images: torch.Tensor, resize_mode: str = "tf1", size: int = 224) -> torch.Tensor:
    """[0, 1] images → torchvision ImageNet classifiers' input: tile to RGB, resize, per-channel standardise."""
    rgb = resize(tile_to_rgb(images.float()), size, resize_mode)
    mean = torch.tensor(IMAGENET_MEAN, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb - mean) / std
