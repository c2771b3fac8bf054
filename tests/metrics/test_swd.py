"""Sliced Wasserstein distance (Karras et al. 2018): a slow numpy reference, sampling noise, monotonicity."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import torch
from torch.nn import functional as F

from gan_study.study.metrics import swd
from gan_study.study.metrics.swd import sliced_wasserstein_distances

BINOMIAL_5X5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0


def slow_swd(real: np.ndarray, fake: np.ndarray, seed: int) -> dict[int, float]:
    """The metric from its description: scipy's mirrored convolutions (cv2.pyrDown/pyrUp), a loop over
    neighbourhoods, per-channel normalisation, numpy projections and sorts. Random positions and
    directions come from the module's own draws in its documented order, so the numbers must agree."""
    def blur(x, gain):
        return scipy.ndimage.convolve(x, BINOMIAL_5X5[None, None] * gain, mode="mirror")

    def pyramid(x, levels):
        out = [x.astype(np.float64)]
        for _ in range(1, levels):
            down = blur(out[-1], 1.0)[:, :, ::2, ::2]
            spread = np.zeros(down.shape[:2] + (2 * down.shape[2], 2 * down.shape[3]))
            spread[:, :, ::2, ::2] = down
            out[-1] = out[-1] - blur(spread, 4.0)
            out.append(down)
        return out

    def describe(level, positions):
        rows = []
        for index, (row, column) in enumerate(positions):
            patch = level[index // swd.PER_IMAGE, :, row - 3:row + 4, column - 3:column + 4]  # (c, 7, 7)
            rows.append(patch.transpose(1, 2, 0).ravel())  # row, column, channel order
        desc = np.array(rows).reshape(len(rows), 7, 7, -1)
        desc = (desc - desc.mean(axis=(0, 1, 2))) / desc.std(axis=(0, 1, 2))
        return desc.reshape(len(rows), -1)

    levels = swd.resolutions(real.shape[2])
    generator = torch.Generator().manual_seed(seed)
    pyramids = [pyramid(x, len(levels)) for x in (real, fake)]
    positions = [[swd.draw_positions(len(x), *level.shape[2:], generator).numpy() for level in p]
                 for x, p in zip((real, fake), pyramids)]
    directions = swd.draw_directions(real.shape[1] * 49, generator).double().numpy()
    values = {}
    for index, resolution in enumerate(levels):
        a, b = describe(pyramids[0][index], positions[0][index]), describe(pyramids[1][index], positions[1][index])
        per_repeat = [np.abs(np.sort(a @ d, axis=0) - np.sort(b @ d, axis=0)).mean() for d in directions]
        values[resolution] = 1e3 * float(np.mean(per_repeat))
    return values


def smooth_images(n: int, size: int, seed: int) -> torch.Tensor:
    """Random colour images with structure at a few pixels' scale (3×3 box-blurred uniform noise), in [0, 1]."""
    noise = torch.rand(n, 3, size + 2, size + 2, generator=torch.Generator().manual_seed(seed))
    return F.avg_pool2d(noise, 3, 1)


def blurred(images: torch.Tensor, radius: int) -> torch.Tensor:
    return F.avg_pool2d(F.pad(images, (radius,) * 4, mode="reflect"), 2 * radius + 1, 1) if radius else images


def test_equals_the_slow_reference_on_two_levels():
    real, fake = smooth_images(12, 32, seed=0), blurred(smooth_images(12, 32, seed=1), 1)
    got = sliced_wasserstein_distances(real, fake, seed=3)
    expected = slow_swd(real.double().numpy(), fake.double().numpy(), seed=3)
    assert sorted(got) == [16, 32]
    assert got == pytest.approx(expected, rel=1e-4)


def test_two_samples_of_one_set_are_near_zero_and_blur_and_noise_increase_it():
    """Two halves of one set differ by sampling noise only: it shrinks with the sample size, and each added
    blur radius or noise level raises SWD well above it (16×16, one level; the per-channel normalisation
    absorbs contrast, so the noise levels are large)."""
    images = smooth_images(400, 16, seed=4)
    real, other = images[:100], images[100:200]
    same = sliced_wasserstein_distances(real, other)[16]
    same_more = sliced_wasserstein_distances(images[:200], images[200:])[16]
    by_blur = [sliced_wasserstein_distances(real, blurred(other, r))[16] for r in (1, 2)]
    noise = torch.randn(other.shape, generator=torch.Generator().manual_seed(5))
    by_noise = [sliced_wasserstein_distances(real, other + s * noise)[16] for s in (0.1, 0.3)]
    assert same_more < same
    assert same < by_blur[0] < by_blur[1]
    assert same < by_noise[0] < by_noise[1]
    assert same < 0.5 * min(by_blur[1], by_noise[1])


def test_resolutions_follow_karras():
    assert swd.resolutions(64) == [64, 32, 16] and swd.resolutions(28) == [28] and swd.resolutions(8) == []


def test_small_images_are_refused_with_the_size():
    with pytest.raises(ValueError, match="at least 16"):
        sliced_wasserstein_distances(torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8))
