"""Run-folder artefacts of the PRD, memorisation and Triangles precision/recall measures, written by their real code
from tiny inputs."""
from __future__ import annotations

from pathlib import Path

import torch

from gan_study.study.data import ImageSet
from gan_study.study.metrics import triangle_fit
from gan_study.study.metrics.measures import MeasureInputs, write_artefact
from gan_study.study.metrics.memorisation import Memorisation
from gan_study.study.metrics.prd import PRD
from gan_study.study.metrics.triangles_pr import ARTEFACT as TRIANGLES_ARTEFACT
from gan_study.study.metrics.triangles_pr import TrianglesPR

TRAIN = ImageSet(torch.rand(30, 1, 8, 8, generator=torch.Generator().manual_seed(1)), None, "mnist", "train")


def feature_inputs(run_dir: Path, shift: float) -> MeasureInputs:
    """Gaussian features for PRD: the generated ones shifted by `shift`."""
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(200, 4, generator=generator), torch.randn(200, 4, generator=generator) + shift
    return MeasureInputs(real=real, fake=fake, real_images=None, fake_images=None, generated_images=None,
                         train=None, artefacts=Path(run_dir) / "measures")


def replay_inputs(run_dir: Path, shift: float) -> MeasureInputs:
    """Pixels as features: the generator returns the first 20 training images, brightened by `shift`."""
    pixels = TRAIN.images.reshape(len(TRAIN), -1)
    heldout = torch.rand(20, pixels.shape[1], generator=torch.Generator().manual_seed(2))
    return MeasureInputs(real=heldout, fake=pixels[:20] + shift, real_images=None, fake_images=None,
                         generated_images=lambda index: TRAIN.images[index] + shift, train=lambda n: (pixels, TRAIN),
                         artefacts=Path(run_dir) / "measures")


def write_measure_artefacts(run_dir: Path, shift: float) -> None:
    """`measures/prd.json` (curve of features shifted by `shift`) and `measures/memorisation.npz` (a generator
    replaying training images brightened by shift / 10: flagged at shift 0)."""
    PRD(runs=2).evaluate(feature_inputs(run_dir, shift))
    Memorisation(shown=4).evaluate(replay_inputs(run_dir, shift / 10))


def write_triangles_artefact(run_dir: Path, shift: float) -> None:
    """`measures/triangles_pr.npz` as TrianglesPR writes it: 8 data-set triangles, the last 4 with uniform noise of
    amplitude shift / 10 (rejected once shift > 0), each scored by its distance to its own clean triangle; recall:
    G reproduces clean triangle i as sample i."""
    rng = torch.Generator().manual_seed(0)
    clean = triangle_fit.hard_render(triangle_fit.random_starts(8, 1, rng)[:, 0]).float()
    noisy = torch.cat((clean[:4], (clean[4:] - shift / 10 * torch.rand(4, clean.shape[1], generator=rng)).clamp(0, 1)))
    distances = triangle_fit.squared_distance(noisy, clean).double()
    images = noisy.reshape(-1, 1, 28, 28)
    payload = TrianglesPR(n=8, shown=3).extremes(images, distances, (clean.reshape(-1, 1, 28, 28), distances))
    write_artefact(Path(run_dir) / "measures", TRIANGLES_ARTEFACT, payload)
