"""TF1 bilinear resize: output pixel i samples input coordinate i * in/out, closed forms."""
from __future__ import annotations

import torch

from gan_study.study.data.tf_resize import tf1_resize_bilinear


def test_downscale_by_two_picks_every_other_pixel():
    image = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    assert torch.equal(tf1_resize_bilinear(image, (2, 2)), image[..., ::2, ::2])


def test_upscale_interpolates_then_repeats_the_last_pixel():
    image = torch.tensor([[10.0, 30.0]])
    # positions 0, 0.5, 1, 1.5 -> a, (a+b)/2, b, b (clamped at the edge): TF1 has no half-pixel centres
    assert tf1_resize_bilinear(image, (1, 4)).tolist() == [[10.0, 20.0, 30.0, 30.0]]


def test_celeba_downscale_samples_a_linear_ramp_at_two_and_a_half_times_the_index():
    ramp_x = torch.arange(160, dtype=torch.float32).expand(3, 160, 160)
    ramp_y = ramp_x.transpose(1, 2)
    expected = 2.5 * torch.arange(64, dtype=torch.float32)
    assert torch.equal(tf1_resize_bilinear(ramp_x, (64, 64))[0, 7], expected)
    assert torch.equal(tf1_resize_bilinear(ramp_y, (64, 64))[2, :, 5], expected)
    # torch's half-pixel convention would give 2.5 i + 0.75: the two are not interchangeable
    half_pixel = torch.nn.functional.interpolate(ramp_x[None], size=(64, 64), mode="bilinear", align_corners=False)
    assert torch.allclose(half_pixel[0, 0, 7], expected + 0.75)
