"""Distance of an image to the Triangles manifold: the best-fitting triangle of the generator's own family.

The manifold is not "any triangle": with free vertices a blank image fits a zero-area triangle at
distance 0. It is the data set's family (`gan_study.study.data.triangle_geometry`): parameters (a0, a1, a2, θ) in
the colab's exact support box, vertex angles φ_i = a_i − θ on the circle of radius 10.5 px around (14, 14).

Fitting is a non-convex search, done as: starting points (the top-K of a hard-rendered template bank,
or uniform random draws in the box), then Adam on the parameters through a soft renderer (coverage =
Π σ(k · signed edge distance), sampled in each pixel's exact footprint, so it agrees with the hard
raster up to the edge blur), with k annealed geometrically, a cosine-decayed learning rate and
projection onto the box after every step. The reported distance is always the EXACT hard raster at
the fitted parameters (sum over pixels of squared differences, float64), minimised over starts and
over the start itself: any reported distance is attained by a real data-set triangle, so the search
can only over-estimate the true distance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from gan_study.study.data import triangle_geometry as geometry
from gan_study.study.metrics.descent import set_cosine_lr, squared_distance

PIXELS = geometry.RASTER_DIM ** 2
_DEG = math.pi / 180.0
PARAMETER_LOW = tuple(a * _DEG for a in geometry.ANGLE_LOW_DEG) + (0.0,)
PARAMETER_HIGH = tuple((a + geometry.ANGLE_WIDTH_DEG) * _DEG for a in geometry.ANGLE_LOW_DEG) + (geometry.THETA_MAX_RAD,)
"""The support of (a0, a1, a2, θ) in radians: a_i ∈ [i·120° + 10°, i·120° + 120°], θ ∈ [0, 2π°]."""


@dataclass(frozen=True)
class FitSchedule:
    """Adam on (a0, a1, a2, θ) through the soft renderer."""

    steps: int
    lr: float
    """Radians; decays with a cosine to lr · lr_floor."""
    sharpness_start: float
    """k of σ(k·d) at the first step, px⁻¹; grows geometrically to sharpness_end."""
    sharpness_end: float
    subsamples: int = 1
    """Soft-renderer samples per pixel side, stratified in the pixel's footprint (1: its centre p + 1/16)."""
    lr_floor: float = 0.1


class TemplateBank(NamedTuple):
    """Hard-rendered triangles on a grid over the (a0, a1, a2) box (θ = 0): starting points for the fit."""

    params: torch.Tensor
    """(T, 4) float32."""
    images: torch.Tensor
    """(T, 784) float32."""


def parameter_box(device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.tensor(PARAMETER_LOW, device=device), torch.tensor(PARAMETER_HIGH, device=device))


def vertices_of(params: torch.Tensor) -> torch.Tensor:
    """(..., 4) parameters → (..., 3, 2) vertices in pixels."""
    return geometry.circle_vertices(params[..., :3] - params[..., 3:])


def hard_render(params: torch.Tensor) -> torch.Tensor:
    """(B, 4) → (B, 784) float32: the data set's exact raster of these triangles."""
    return geometry.rasterize(vertices_of(params.detach().to(torch.float64))).flatten(1)


def soft_render(params: torch.Tensor, sharpness: float, subsamples: int = 1) -> torch.Tensor:
    """(B, 4) → (B, 784): 1 − mean over footprint samples of Π_edges σ(k · signed distance to the edge).

    Sample s of pixel p sits at p − 7/16 + (s + ½)/subsamples, the hard raster's footprint (its sub-samples
    at p − 3/8 … p + 4/8, each standing for 1/8 px); samples left of 0 are the cval=1 border (outside).
    The signed distance is separable, d_i(x, y) = n_ix·x + n_iy·y − c_i, so no (B, 3, H, W, 2) tensor is built.
    """
    vertices = vertices_of(params)                                                  # (B, 3, 2)
    edges = vertices.roll(-1, dims=1) - vertices
    twice_area = (edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0])
    orientation = torch.where(twice_area >= 0, 1.0, -1.0).to(vertices)[:, None]
    length = edges.norm(dim=-1).clamp(min=1e-9)
    normal_x = -edges[..., 1] * orientation / length                                # inward unit normals
    normal_y = edges[..., 0] * orientation / length
    offset = normal_x * vertices[..., 0] + normal_y * vertices[..., 1]
    positions = footprint_positions(subsamples, vertices.device, vertices.dtype)   # (28·s,)
    along_x = sharpness * (normal_x[..., None] * positions - offset[..., None])     # (B, 3, X)
    along_y = sharpness * (normal_y[..., None] * positions)                         # (B, 3, Y)
    inside = None
    for edge in range(3):  # one (B, X, Y) tensor per edge: ~3× faster than a (B, 3, X, Y) product
        covered = torch.sigmoid(along_x[:, edge, :, None] + along_y[:, edge, None, :])
        inside = covered if inside is None else inside * covered
    if subsamples > 1:  # the cval=1 border, then the mean over each pixel's footprint samples
        in_raster = (positions >= 0).to(vertices.dtype)
        inside = inside * in_raster[:, None] * in_raster[None, :]
        dim = geometry.RASTER_DIM
        inside = inside.reshape(-1, dim, subsamples, dim, subsamples).mean(dim=(2, 4))
    return 1.0 - inside.flatten(1)


def footprint_positions(subsamples: int, device: torch.device | str = "cpu",
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Sample positions along one axis, pixel-major: p − 7/16 + (s + ½)/subsamples for p < 28, s < subsamples."""
    pixel = torch.arange(geometry.RASTER_DIM, device=device, dtype=dtype)[:, None]
    within = (torch.arange(subsamples, device=device, dtype=dtype) + 0.5) / subsamples
    first_edge = geometry.FOOTPRINT_FIRST - 0.5 / geometry.SUBPIXEL_RES
    return (pixel + first_edge + within).flatten()


def build_template_bank(grid: int) -> TemplateBank:
    """grid³ templates at the cell centres of the (a0, a1, a2) box, θ = 0."""
    low, high = parameter_box()
    cells = (torch.arange(grid, dtype=torch.float64) + 0.5) / grid
    axes = [low[i].double() + (high[i].double() - low[i].double()) * cells for i in range(3)]
    angles = torch.cartesian_prod(*axes)
    params = torch.cat((angles, torch.zeros(len(angles), 1, dtype=torch.float64)), dim=1)
    images = torch.cat([hard_render(chunk) for chunk in params.split(4096)])
    return TemplateBank(params.float(), images)


def nearest_templates(bank: TemplateBank, targets: torch.Tensor, k: int) -> torch.Tensor:
    """(N, 784) → (N, k, 4): the parameters of the k templates nearest each target in squared L2."""
    if not 1 <= k <= len(bank.params):
        raise ValueError(f"top_k = {k} is not allowed: between 1 and the bank's {len(bank.params)} templates")
    images = bank.images.to(targets.device)
    bank_norms = images.square().sum(dim=1)
    chosen = []
    for chunk in targets.float().split(1024):
        distances = bank_norms[None, :] - 2.0 * chunk @ images.T   # + ‖target‖², constant per row
        chosen.append(distances.topk(k, dim=1, largest=False).indices)
    return bank.params.to(targets.device)[torch.cat(chosen)]


def random_starts(n: int, restarts: int, generator: torch.Generator) -> torch.Tensor:
    """(n, restarts, 4) parameters uniform in the support box."""
    low, high = parameter_box()
    return low + (high - low) * torch.rand(n, restarts, 4, generator=generator)


def refine(targets: torch.Tensor, params: torch.Tensor, schedule: FitSchedule) -> torch.Tensor:
    """Adam from `params` (B, 4) towards each row of `targets` (B, 784); returns the fitted (B, 4), in the box."""
    low, high = parameter_box(params.device)
    fitted = params.detach().clone().float().requires_grad_(True)
    optimiser = torch.optim.Adam([fitted], lr=schedule.lr)
    targets = targets.float()
    with torch.enable_grad():
        for step in range(schedule.steps):
            progress = step / max(schedule.steps - 1, 1)
            sharpness = schedule.sharpness_start * (schedule.sharpness_end / schedule.sharpness_start) ** progress
            set_cosine_lr(optimiser, schedule.lr, schedule.lr_floor, step, schedule.steps)
            loss = (soft_render(fitted, sharpness, schedule.subsamples) - targets).square().sum()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                fitted.clamp_(low, high)
    return fitted.detach()


def distances_to_triangles(images: torch.Tensor, starts: torch.Tensor, schedule: FitSchedule,
                           max_candidates: int = 4096) -> torch.Tensor:
    """(N, 784) images and (N, R, 4) starting parameters → (N,) float64 distances to the manifold.

    Works through the images in chunks of at most `max_candidates` (image, start) pairs at one sample
    per pixel (fewer with more soft-renderer samples), which bounds memory; results do not depend on it.
    """
    if images.ndim != 2 or images.shape[1] != PIXELS:
        raise ValueError(f"images must be (N, {PIXELS}), got {tuple(images.shape)}")
    n, restarts = starts.shape[:2]
    per_chunk = max(1, max_candidates // (restarts * schedule.subsamples ** 2))
    distances = []
    for begin in range(0, n, per_chunk):
        targets = images[begin:begin + per_chunk]
        first = starts[begin:begin + per_chunk].reshape(-1, 4)
        repeated = targets.repeat_interleave(restarts, dim=0)
        fitted = refine(repeated, first, schedule)
        both = torch.stack((squared_distance(hard_render(first), repeated),
                            squared_distance(hard_render(fitted), repeated)), dim=1)
        distances.append(both.reshape(len(targets), -1).amin(dim=1))
    return torch.cat(distances)
