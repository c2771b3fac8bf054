"""Nearest neighbours in feature space, in row chunks so that 10k × 10k × 2048 never needs the full matrix.

Squared Euclidean distances are computed as ‖a‖² + ‖b‖² − 2 a·b in the features' dtype on their device
(float32 features: the FID pass's), clamped at 0. One chunk holds at most `CHUNK_ELEMENTS` distances
(256 MB in float32), whatever n is.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

CHUNK_ELEMENTS = 1 << 26


def row_chunks(n_rows: int, n_columns: int) -> Iterator[slice]:
    """Row slices whose (rows × n_columns) distance block stays within CHUNK_ELEMENTS."""
    step = max(1, CHUNK_ELEMENTS // max(1, n_columns))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def squared_distances(a: torch.Tensor, b: torch.Tensor, b_norms: torch.Tensor | None = None) -> torch.Tensor:
    """(len(a), len(b)) squared Euclidean distances; `b_norms` = (b * b).sum(1) when precomputed."""
    if b_norms is None:
        b_norms = (b * b).sum(dim=1)
    products = a @ b.T  # one (len(a), len(b)) block; the rest is done in place on it
    return products.mul_(-2.0).add_((a * a).sum(dim=1, keepdim=True)).add_(b_norms[None, :]).clamp_min_(0.0)


def kth_neighbour_distances(x: torch.Tensor, k: int) -> torch.Tensor:
    """(n,) Euclidean distance of each row of x to its k-th nearest OTHER row (itself excluded)."""
    if not 1 <= k < len(x):
        raise ValueError(f"k = {k} is not allowed: between 1 and n - 1 = {len(x) - 1}")
    norms = (x * x).sum(dim=1)
    radii = torch.empty(len(x), dtype=x.dtype, device=x.device)
    for rows in row_chunks(len(x), len(x)):
        block = squared_distances(x[rows], x, norms)
        own = torch.arange(rows.start, rows.stop, device=x.device)
        block[own - rows.start, own] = -1.0  # itself: always the smallest, then skipped
        radii[rows] = block.topk(k + 1, dim=1, largest=False).values[:, k]
    return radii.sqrt_()


def nearest_neighbours(queries: torch.Tensor, base: torch.Tensor, k: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(distances, indices), each (len(queries), k), of the k nearest rows of `base` to each query, nearest first."""
    if not 1 <= k <= len(base):
        raise ValueError(f"k = {k} is not allowed: between 1 and len(base) = {len(base)}")
    norms = (base * base).sum(dim=1)
    distances = torch.empty(len(queries), k, dtype=queries.dtype, device=queries.device)
    indices = torch.empty(len(queries), k, dtype=torch.long, device=queries.device)
    for rows in row_chunks(len(queries), len(base)):
        nearest = squared_distances(queries[rows], base, norms).topk(k, dim=1, largest=False)
        distances[rows], indices[rows] = nearest.values.sqrt(), nearest.indices
    return distances, indices
