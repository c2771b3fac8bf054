"""The Triangles data set against an independent, literal re-implementation of compare_gan's colab.

The reference below follows the colab step by step (scalar `np.random.rand()` draws, `np.matrix`
rotation, matplotlib `Path.contains_points` on the 8× grid, `scipy.ndimage.convolve(mode="constant",
cval=1.0)`, `[::8] / 64`, then `np.random.permutation`), so agreement means the vectorised generator
reproduces the colab's data set item for item, not just "looks like triangles".
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.path import Path as PolygonPath
from scipy import ndimage

from gan_study.study.data import load_dataset
from gan_study.study.data import triangles
from gan_study.study.data.triangle_geometry import rasterize

R, DIM = 8, 28
# The colab rotates with np.matrix; the reference keeps it, literally.
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")


def reference_raster(vertices: np.ndarray) -> np.ndarray:
    """The colab's rasterisation of one polygon (vertices in pixels): fraction of sub-samples outside."""
    grid_x, grid_y = np.mgrid[0:DIM * R, 0:DIM * R]
    inside = PolygonPath(vertices * R).contains_points(np.column_stack((grid_x.ravel(), grid_y.ravel())))
    outside = np.array(~inside.reshape(DIM * R, DIM * R), dtype=np.float32)
    blurred = ndimage.convolve(outside, np.ones((R, R)), mode="constant", cval=1.0)
    return blurred[::R, ::R] / (R * R)


def reference_polygon() -> np.ndarray:
    """One colab triangle from the global numpy stream (n_vertices=3, min angle 20, scale 0.75, shift to mean)."""
    angles = []
    for i in range(3):
        angles.append(i * 120.0 + 20 / 2.0 + np.random.rand() * (120.0 - 20 / 2.0))
    radians = np.array(angles) * np.pi / 180.0
    unit = (np.column_stack((np.cos(radians), np.sin(radians))) + 1.0) / 2.0
    theta = np.radians(np.random.rand() * 2 * np.pi)
    rotated = np.dot(unit, np.matrix([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]))
    vertices = np.asarray(rotated * (DIM * 0.75))
    vertices += DIM / 2.0 - vertices.mean(axis=0)
    return reference_raster(vertices)


def reference_dataset(n: int, seed: int) -> np.ndarray:
    np.random.seed(seed)
    images = np.stack([reference_polygon() for _ in range(n)])
    return images[np.random.permutation(n)]


def as_images(counts: np.ndarray) -> np.ndarray:
    return counts.astype(np.float64) / 64.0


def test_generator_reproduces_the_colab_item_for_item():
    expected = reference_dataset(50, seed=7)
    generated = as_images(triangles.generate_triangle_counts(50, seed=7, chunk_size=16))
    assert np.allclose(generated, expected, atol=1e-6, rtol=0)
    assert int((np.abs(generated - expected) > 1e-6).sum()) == 0
    assert expected.min() == 0.0 and expected.max() == 1.0  # real triangles, not a degenerate comparison


def test_rasterizer_matches_the_colab_raster_off_centre_and_at_the_border():
    """Arbitrary triangles (either orientation, partly outside the raster) exercise the cval=1 border and
    the convolve offset, which centred triangles barely touch."""
    rng = np.random.default_rng(3)
    vertices = rng.uniform(-6.0, 34.0, size=(40, 3, 2))
    expected = np.stack([reference_raster(v) for v in vertices])
    got = rasterize(torch.from_numpy(vertices)).numpy()
    assert int((np.abs(got - expected) > 1e-6).sum()) == 0
    flipped = rasterize(torch.from_numpy(vertices[:, ::-1].copy())).numpy()
    assert np.array_equal(flipped, got)


def test_generation_is_seeded():
    first = triangles.generate_triangle_counts(64, seed=5)
    assert np.array_equal(first, triangles.generate_triangle_counts(64, seed=5, chunk_size=7))
    assert not np.array_equal(first, triangles.generate_triangle_counts(64, seed=6))


@pytest.mark.parametrize("n, seed, field", [(0, 0, "n"), (10, -1, "seed"), (2.5, 0, "n")])
def test_bad_generator_arguments_are_named(n, seed, field):
    with pytest.raises(ValueError, match=f"{field} = "):
        triangles.generate_triangle_counts(n, seed)


def test_splits_are_the_paper_slices_of_the_colab_stream(data_root):
    sets = {split: load_dataset("triangles", data_root, split) for split in ("train", "test", "holdout")}
    assert {split: len(s) for split, s in sets.items()} == {"train": 60_000, "test": 10_000, "holdout": 10_000}
    # The colab's stream for 80k items: 4 draws per triangle, then the permutation.
    np.random.seed(0)
    np.random.rand(80_000 * 4)
    permutation = np.random.permutation(80_000)
    for split, offset in (("train", 0), ("test", 60_000), ("holdout", 70_000)):
        images = sets[split]
        assert images.images.dtype == torch.float32 and images.shape == (1, 28, 28) and images.labels is None
        for index in (0, len(images) // 2, len(images) - 1):
            np.random.seed(0)
            np.random.rand(4 * int(permutation[offset + index]))  # skip to the item's draws
            expected = reference_polygon()
            assert np.array_equal(images.batch(torch.tensor([index]))[0, 0].numpy(), expected.astype(np.float32))
    levels = sets["test"].images * 64
    assert torch.equal(levels, levels.round())  # anti-aliased values are exact k/64


def test_the_cache_is_used_the_second_time(tmp_path, monkeypatch):
    first = triangles.load_triangle_counts(tmp_path, seed=2, n=40)
    assert triangles.cache_path(tmp_path, 2, 40).exists()

    def must_not_generate(*args, **kwargs):
        raise AssertionError("the cached file should have been read")

    monkeypatch.setattr(triangles, "generate_triangle_counts", must_not_generate)
    assert np.array_equal(triangles.load_triangle_counts(tmp_path, seed=2, n=40), first)


@pytest.mark.parametrize("damage", ["truncate", "tamper"])
def test_a_damaged_cache_is_detected_and_rewritten(tmp_path, monkeypatch, damage):
    path = triangles.cache_path(tmp_path, 4, 40)
    expected = triangles.load_triangle_counts(tmp_path, seed=4, n=40)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    else:  # a valid file whose counts no longer match their checksum
        with np.load(path) as stored:
            fields = {name: stored[name] for name in stored.files}
        fields["counts"] = fields["counts"].copy()
        fields["counts"][3, 14, 14] ^= 1
        with open(path, "wb") as stream:
            np.savez(stream, **fields)
    calls = []
    generate = triangles.generate_triangle_counts
    monkeypatch.setattr(triangles, "generate_triangle_counts", lambda *a, **k: calls.append(a) or generate(*a, **k))
    assert np.array_equal(triangles.load_triangle_counts(tmp_path, seed=4, n=40), expected)
    assert len(calls) == 1
    assert np.array_equal(triangles.load_triangle_counts(tmp_path, seed=4, n=40), expected)
    assert len(calls) == 1  # the rewritten file is intact
