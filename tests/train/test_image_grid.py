"""Sample grids without torchvision: the same layout and PNG bytes as torchvision's make_grid + save_image (the
reference, imported here only), and a trial process that never imports torchvision for them."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from gan_study.study.train.image_grid import tile, write_png


@pytest.mark.parametrize("n, channels, per_row", [(1, 1, 1), (3, 1, 2), (36, 1, 6), (40, 3, 4), (5, 3, 8)])
def test_the_grid_and_its_png_equal_torchvisions(n, channels, per_row, tmp_path):
    from torchvision.utils import make_grid, save_image

    images = torch.rand(n, channels, 7, 5, generator=torch.Generator().manual_seed(n))
    expected = make_grid(images, nrow=per_row, padding=2, pad_value=0.5)
    assert torch.equal(tile(images, per_row), expected)
    save_image(expected, tmp_path / "torchvision.png")
    write_png(tile(images, per_row), tmp_path / "ours.png")
    assert (tmp_path / "ours.png").read_bytes() == (tmp_path / "torchvision.png").read_bytes()


def test_the_layout_by_hand():
    """3 images of 2×2 at 2 a row: 2 rows, each cell 2 + 2 padding; a border of 0.5 and image k at its cell."""
    images = torch.stack([torch.full((1, 2, 2), value) for value in (0.0, 0.25, 1.0)])
    grid = tile(images, per_row=2)
    assert grid.shape == (3, 2 * 4 + 2, 2 * 4 + 2)
    assert torch.equal(grid[:, 2:4, 2:4], torch.zeros(3, 2, 2))
    assert torch.equal(grid[:, 2:4, 6:8], torch.full((3, 2, 2), 0.25))
    assert torch.equal(grid[:, 6:8, 2:4], torch.ones(3, 2, 2))
    assert torch.equal(grid[:, 6:8, 6:8], torch.full((3, 2, 2), 0.5))  # the missing fourth image is padding
    assert grid[:, 0:2].eq(0.5).all() and grid[:, :, 4:6].eq(0.5).all()


def test_png_levels_round_to_nearest(tmp_path):
    image = torch.tensor([0.0, 0.5, 1.0, 0.3, 1.2, -0.1]).view(1, 1, 6).expand(3, 1, 6)
    write_png(image, tmp_path / "levels.png")
    pixels = np.asarray(Image.open(tmp_path / "levels.png"))
    assert pixels.shape == (1, 6, 3) and pixels[0, :, 0].tolist() == [0, 128, 255, 77, 255, 0]


def test_bad_images_are_named():
    with pytest.raises(ValueError, match=r"images must be \(N, 1 or 3, H, W\), got shape \(2, 2, 4, 4\)"):
        tile(torch.zeros(2, 2, 4, 4), per_row=2)


def test_a_trial_process_does_not_import_torchvision():
    """torchvision costs ~2 s of CPU per process (it loads torch._dynamo): the trainer and the trial worker leave it
    to the metrics and data sets that need it."""
    code = ("import sys, gan_study.launch.trial_process, gan_study.study.train.run; "
            "print('torchvision' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
