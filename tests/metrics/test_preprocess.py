"""The preprocessing in front of the networks, on small tensors with hand-computed values."""
from __future__ import annotations

import pytest
import torch

from gan_study.study.metrics.preprocess import (IMAGENET_MEAN, IMAGENET_STD, imagenet_input, inception_input,
                                      quantize_to_uint8_levels, resize, tile_to_rgb)


def image(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)[None, None]


def test_tf1_resize_samples_at_dst_times_in_over_out_without_half_pixel_offset():
    """2×2 → 3×3. TF1: src = dst·2/3 = 0, 2/3, 4/3 (clamped to the last pixel), so for f(y, x) = 6y + 3x the
    output is 6y' + 3x' with y', x' ∈ {0, 2/3, 1}."""
    out = resize(image([[0, 3], [6, 9]]), 3, "tf1")
    expected = image([[0, 2, 3], [4, 6, 7], [6, 8, 9]])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


def test_torch_resize_is_a_different_grid():
    """PyTorch's align_corners=False samples at (dst + ½)·2/3 − ½ = −1/6 (→0), ½, 7/6 (→1): coordinates 0, ½, 1."""
    out = resize(image([[0, 3], [6, 9]]), 3, "torch")
    expected = image([[0, 1.5, 3], [3, 4.5, 6], [6, 7.5, 9]])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


def test_tf1_upscale_by_two_repeats_the_last_pixel():
    """4 → 8: src = 0, .5, 1, ..., 3.5; the last two outputs both read pixel 3 (no pixel 4 to blend with)."""
    row = torch.tensor([0.0, 10.0, 20.0, 30.0])
    out = resize(row.repeat(4, 1)[None, None], 8, "tf1")[0, 0]
    torch.testing.assert_close(out[0], torch.tensor([0.0, 5, 10, 15, 20, 25, 30, 30]))
    torch.testing.assert_close(out[:, 3], torch.full((8,), 15.0))


def test_tiling_repeats_gray_and_keeps_rgb():
    gray = torch.rand(2, 1, 5, 5)
    tiled = tile_to_rgb(gray)
    assert tiled.shape == (2, 3, 5, 5)
    assert torch.equal(tiled[:, 0], gray[:, 0]) and torch.equal(tiled[:, 2], gray[:, 0])
    rgb = torch.rand(2, 3, 5, 5)
    assert tile_to_rgb(rgb) is rgb
    with pytest.raises(ValueError, match="1 or 3 channels"):
        tile_to_rgb(torch.rand(1, 2, 5, 5))


def test_inception_input_scales_to_255_then_minus_128_over_128():
    """Constant images survive the resize unchanged: 0 → −1, ½ → (127.5 − 128)/128, 1 → 127/128."""
    images = torch.stack([torch.full((1, 28, 28), v) for v in (0.0, 0.5, 1.0)])
    out = inception_input(images)
    assert out.shape == (3, 3, 299, 299)
    for index, expected in enumerate((-1.0, -0.5 / 128, 127 / 128)):
        torch.testing.assert_close(out[index], torch.full((3, 299, 299), expected), rtol=0, atol=1e-6)


def test_inception_input_of_a_gradient_matches_a_hand_value():
    """x ramp 0..27/27 over 28 columns; output column 13 reads src = 13·28/299 ≈ 1.2174: pixel 1 + 0.2174 of the
    way to pixel 2, i.e. 1.2174/27 in [0, 1]."""
    ramp = (torch.arange(28.0) / 27).repeat(28, 1)[None, None]
    out = inception_input(ramp)
    src = 13 * 28 / 299
    expected = (src / 27 * 255 - 128) / 128
    assert out[0, 1, 100, 13].item() == pytest.approx(expected, abs=1e-5)


def test_quantisation_rounds_half_up_to_8_bit_levels_and_clamps():
    values = torch.tensor([-0.1, 0.0, 0.3, 0.5, 0.50001, 1.0, 1.2])
    expected = torch.tensor([0, 0, 77, 128, 128, 255, 255]) / 255.0  # 0.3·255 = 76.5 → 77; 127.5 → 128
    torch.testing.assert_close(quantize_to_uint8_levels(values), expected)


def test_imagenet_input_standardises_each_channel():
    out = imagenet_input(torch.full((1, 1, 10, 10), 0.5))
    assert out.shape == (1, 3, 224, 224)
    for channel in range(3):
        expected = (0.5 - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel]
        assert out[0, channel].sub(expected).abs().max().item() < 1e-5


def test_unknown_resize_mode_is_rejected():
    with pytest.raises(ValueError, match="resize = 'nearest' is not allowed"):
        resize(torch.zeros(1, 1, 2, 2), 3, "nearest")
