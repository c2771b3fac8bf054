"""The generated Triangles data set (docs/protocol.md#triangles-data-set): compare_gan's convex-polygon colab, 80,000 items.

`GenerateDataset(80000, n_vertices=3, min_segment_angle=20, scale=0.75, raster_dim=28, subpixel_res=8,
shift_to_mean=True, seed)` item for item — the same random stream, the same global permutation — with
the rasterisation vectorised (`triangle_geometry.rasterize`). Splits as the paper: train = [:60000],
test = [60000:70000], holdout = [70000:]. White background 1.0, black triangle 0.0, one channel.

Generated once per (seed, n) and cached under the data root as `triangles/triangles_seed<seed>_n<n>.npz`.
Pixel values are exactly k/64 (k outside sub-samples of 64), which 8-bit /255 images cannot hold, so the
file stores the integer counts k as uint8 (63 MB) and the loader returns float32 k/64 — lossless both ways.
The file carries a SHA-256 of the counts and the generator settings; a file that fails either check is
regenerated and rewritten (atomically: temporary file + rename), never used.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import zipfile
from pathlib import Path

import numpy as np
import torch

from gan_study.models.checks import integer
from gan_study.study.data import triangle_geometry as geometry
from gan_study.study.data.image_set import ImageSet
from gan_study.study.data.registry import Loader, register_dataset
from gan_study.study.files import READABLE_BY_ALL, write_atomically

log = logging.getLogger("gan_study.data")

N_IMAGES = 80_000
SPLITS = {"train": (0, 60_000), "test": (60_000, 70_000), "holdout": (70_000, 80_000)}
LEVELS = geometry.SUBPIXEL_RES ** 2
"""64: a pixel value is k / 64, k = sub-samples outside the triangle."""
SETTINGS = {"n_vertices": geometry.N_VERTICES, "min_segment_angle": geometry.MIN_SEGMENT_ANGLE_DEG,
            "scale": geometry.SCALE, "raster_dim": geometry.RASTER_DIM, "subpixel_res": geometry.SUBPIXEL_RES,
            "shift_to_mean": True, "stored_as": "uint8 outside counts k, pixel = k/64", "format": 1}


def generate_triangle_counts(n: int, seed: int, chunk_size: int = 2048) -> np.ndarray:
    """(n, 28, 28) uint8 outside counts k (pixel = k/64) of the colab's data set, in its permuted order."""
    integer("triangles.n", n, 1)
    integer("triangles.seed", seed, 0, 2 ** 32 - 1)
    uniforms, permutation = geometry.draw_colab_parameters(n, seed)
    vertices = torch.from_numpy(geometry.colab_vertices(uniforms[permutation]))
    counts = np.empty((n, geometry.RASTER_DIM, geometry.RASTER_DIM), dtype=np.uint8)
    started = last_log = time.perf_counter()
    for begin in range(0, n, chunk_size):
        end = min(begin + chunk_size, n)
        images = geometry.rasterize(vertices[begin:end])
        counts[begin:end] = (images * LEVELS).round().to(torch.uint8).numpy()
        now = time.perf_counter()
        if now - last_log > 5 or end == n:
            rate = end / (now - started)
            log.info("triangles seed %d: %d/%d images (%.0f/s, ETA %.0f s)", seed, end, n, rate, (n - end) / rate)
            last_log = now
    return counts


def cache_path(root: Path, seed: int, n: int = N_IMAGES) -> Path:
    return Path(root) / "triangles" / f"triangles_seed{seed}_n{n}.npz"


def load_triangle_counts(root: Path, seed: int = 0, n: int = N_IMAGES) -> np.ndarray:
    """The (n, 28, 28) uint8 counts from the cache under `root`, generating and caching them when absent
    or not intact."""
    path = cache_path(root, seed, n)
    if path.exists():
        counts = _read_intact(path, seed, n)
        if counts is not None:
            return counts
    log.info("triangles seed %d: generating %d images into %s (once; later runs read the file)", seed, n, path)
    counts = generate_triangle_counts(n, seed)
    _write_cache(path, counts, _settings(seed, n))
    return counts


def triangles_loader(seed: int) -> Loader:
    """A data set loader for the Triangles of `seed`: register it under another name for another seed."""

    def load(root: Path, split: str, download: bool) -> ImageSet:
        del download  # generated here; nothing to fetch
        begin, end = SPLITS[split]
        counts = torch.from_numpy(load_triangle_counts(root, seed)[begin:end])
        images = counts.to(torch.float32).div_(LEVELS).unsqueeze(1)
        return ImageSet(images, None, "triangles", split)

    return load


load_triangles = register_dataset("triangles", (1, geometry.RASTER_DIM, geometry.RASTER_DIM),
                                  tuple(SPLITS), has_labels=False)(triangles_loader(seed=0))


def _settings(seed: int, n: int) -> dict:
    return {**SETTINGS, "seed": seed, "n": n}


def _digest(counts: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(counts).tobytes()).hexdigest()


def _read_intact(path: Path, seed: int, n: int) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            counts, settings, digest = stored["counts"], json.loads(str(stored["settings"])), str(stored["sha256"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        log.warning("triangles cache %s is unreadable (%s: %s); regenerating it", path, type(error).__name__, error)
        return None
    shape = (n, geometry.RASTER_DIM, geometry.RASTER_DIM)
    if settings != _settings(seed, n) or counts.shape != shape or counts.dtype != np.uint8 or _digest(counts) != digest:
        log.warning("triangles cache %s does not match its settings or checksum; regenerating it", path)
        return None
    return counts


def _write_cache(path: Path, counts: np.ndarray, settings: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = {"counts": counts, "settings": np.array(json.dumps(settings, sort_keys=True)),
              "sha256": np.array(_digest(counts))}
    write_atomically(path, lambda handle: np.savez(handle, **stored), mode=READABLE_BY_ALL)
