"""The Triangles family of compare_gan's convex-polygon colab (docs/protocol.md#triangles-data-set) and its exact rasteriser.

The colab draws, per triangle, three angles a_i = i·120° + 10° + U·110° and a "rotation"
θ = radians(U·2π) (a quirk: at most 2π *degrees*), maps unit-circle points through (p + 1)/2, rotates,
scales by 28·0.75 = 21 px and moves the vertex mean to (14, 14). Rotating about the origin and then
re-centring leaves every triangle on a circle of radius 10.5 px around (14, 14): the family has three
degrees of freedom, φ_i = a_i − θ, and vertices 14 + 10.5·(u(φ_i) − mean u(φ)) with u(φ) = (cos φ, sin φ).

Rasterisation as the colab: the point (x, y) = vertex coordinates · 8 is tested on the integer grid
`np.mgrid[0:224, 0:224]` (x indexes image rows, y columns), and `convolve(ones(8, 8), mode="constant",
cval=1)` followed by `[::8] / 64` makes pixel p the mean of "outside" over sub-samples 8p − 3 … 8p + 4
(sub-samples below index 0 count as outside). Pixel values are therefore k/64: white background 1,
black triangle 0. `rasterize` computes exactly that, but per sub-sample *row*: a triangle cuts each
row in one interval, so the count of inside sub-samples of a pixel is an interval overlap, not 64
point tests — the same numbers ~20× faster.
"""
from __future__ import annotations

import math

import numpy as np
import torch

N_VERTICES = 3
SEGMENT_DEG = 360.0 / N_VERTICES
MIN_SEGMENT_ANGLE_DEG = 20.0
SCALE = 0.75
RASTER_DIM = 28
SUBPIXEL_RES = 8

ANGLE_WIDTH_DEG = SEGMENT_DEG - MIN_SEGMENT_ANGLE_DEG / 2.0
"""Each a_i is drawn in [i·120 + 10, i·120 + 10 + 110) degrees."""
ANGLE_LOW_DEG = tuple(i * SEGMENT_DEG + MIN_SEGMENT_ANGLE_DEG / 2.0 for i in range(N_VERTICES))
THETA_MAX_RAD = math.radians(2 * math.pi)
"""The colab's rotation is radians(U·2π): θ ∈ [0, 0.1097) rad, i.e. below 6.3 degrees."""
RADIUS = RASTER_DIM * SCALE / 2.0
"""10.5 px: the circle every generated triangle's vertices lie on."""
CENTRE = RASTER_DIM / 2.0
"""14 px: the vertex mean of every generated triangle (shift_to_mean=True)."""

FOOTPRINT_FIRST = -((SUBPIXEL_RES - 1) // 2) / SUBPIXEL_RES
"""Pixel p averages the sub-samples at positions p − 3/8, p − 2/8, …, p + 4/8 (the convolve offset)."""
FOOTPRINT_CENTRE = FOOTPRINT_FIRST + (SUBPIXEL_RES - 1) / (2 * SUBPIXEL_RES)
"""p + 1/16: the centre of pixel p's footprint, in pixel units."""


def draw_colab_parameters(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The colab's random stream for `GenerateDataset(n, seed)`: per triangle the 3 angle draws then the θ
    draw, (n, 4) uniforms in [0, 1), followed by the global permutation of the n items.

    `np.random.seed(seed)` + scalar `rand()` calls + `permutation` read the same MT19937 stream as one
    `RandomState(seed).rand(n, 4)` + `permutation`, so the data set is the colab's, item for item.
    """
    stream = np.random.RandomState(seed)
    uniforms = stream.rand(n, N_VERTICES + 1)
    return uniforms, stream.permutation(n)


def colab_vertices(uniforms: np.ndarray) -> np.ndarray:
    """(n, 4) uniforms → (n, 3, 2) float64 vertices in pixels, with the colab's arithmetic in its order."""
    offsets = np.arange(N_VERTICES) * SEGMENT_DEG + MIN_SEGMENT_ANGLE_DEG / 2.0
    angles = (offsets + uniforms[:, :N_VERTICES] * ANGLE_WIDTH_DEG) * np.pi / 180.0
    points = (np.stack((np.cos(angles), np.sin(angles)), axis=-1) + 1.0) / 2.0
    theta = np.radians(uniforms[:, N_VERTICES] * 2 * np.pi)[:, None]
    cos, sin = np.cos(theta), np.sin(theta)
    rotated = np.stack((points[..., 0] * cos + points[..., 1] * sin,
                        points[..., 0] * -sin + points[..., 1] * cos), axis=-1)
    vertices = rotated * (RASTER_DIM * SCALE)
    return vertices + (RASTER_DIM / 2.0 - vertices.mean(axis=1, keepdims=True))


def circle_vertices(phi: torch.Tensor) -> torch.Tensor:
    """(..., 3) vertex angles φ_i = a_i − θ in radians → (..., 3, 2) vertices in pixels (differentiable)."""
    points = torch.stack((torch.cos(phi), torch.sin(phi)), dim=-1)
    return CENTRE + RADIUS * (points - points.mean(dim=-2, keepdim=True))


def rasterize(vertices: torch.Tensor, raster_dim: int = RASTER_DIM, subpixel_res: int = SUBPIXEL_RES) -> torch.Tensor:
    """(B, V, 2) vertices in pixels (a convex polygon, either orientation) → (B, raster_dim, raster_dim)
    float32 images, exactly the colab's anti-aliased raster: fraction of each pixel's sub-samples outside.

    Inside means strictly inside every edge's half-plane; points exactly on an edge (measure zero for
    random vertices) are where matplotlib's crossing test and this one may disagree.
    """
    if vertices.ndim != 3 or vertices.shape[-1] != 2 or vertices.shape[1] < 3:
        raise ValueError(f"rasterize: vertices must have shape (B, V>=3, 2), got {tuple(vertices.shape)}")
    r, size = subpixel_res, raster_dim * subpixel_res
    lead = (r - 1) // 2
    points = vertices.to(torch.float64) * r
    following = points.roll(-1, dims=1)
    twice_area = (points[:, :, 0] * following[:, :, 1] - following[:, :, 0] * points[:, :, 1]).sum(dim=1)
    edges = following - points
    orientation = torch.where(twice_area >= 0, 1.0, -1.0).to(points)[:, None, None]
    # Sub-sample rows -lead ... size-lead-1, in the order the 8-row pixel windows take them; rows below 0
    # are the cval=1 border (never inside).
    rows = torch.arange(size, dtype=torch.float64, device=points.device) - lead
    # Inside edge i: orientation·(e_x·(y − v_y) − e_y·(x − v_x)) > 0, i.e. slope·y > bound(x) on row x.
    slope = (orientation[:, :, 0] * edges[:, :, 0])[:, :, None]                      # (B, V, 1)
    bound = orientation * (edges[:, :, 0:1] * points[:, :, 1:2]
                           + edges[:, :, 1:2] * (rows - points[:, :, 0:1]))          # (B, V, rows)
    ratio = (bound / slope).clamp_(-1.0, float(size))
    low = ratio.masked_fill(slope <= 0, -1.0).amax(dim=1)
    high = ratio.masked_fill(slope >= 0, float(size)).amin(dim=1)
    empty = ((slope == 0) & (bound >= 0)).any(dim=1) | (rows < 0)
    first = (torch.floor(low) + 1).clamp_(min=0)                                       # (B, rows)
    inside_in_row = ((torch.ceil(high) - 1).clamp_(max=size - 1) - first + 1).clamp_(min=0)
    inside_in_row = inside_in_row.masked_fill_(empty, 0).to(torch.float32)[..., None]
    # F(b) = inside sub-samples of a row with column index <= b; window q holds columns 8q-3 ... 8q+4,
    # so its count is F(8q + 4) - F(8q - 4).
    window_edges = torch.arange(raster_dim + 1, dtype=torch.float32, device=points.device) * r - lead - 1
    upto = (window_edges - first.to(torch.float32)[..., None]).add_(1).clamp_(min=0)
    upto = torch.minimum(upto, inside_in_row, out=upto)                                # (B, rows, windows+1)
    inside = upto.reshape(-1, raster_dim, r, raster_dim + 1).sum(dim=2).diff(dim=-1)
    return 1.0 - inside / (r * r)
