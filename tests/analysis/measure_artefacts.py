"""Run-folder artefacts of the PRD and memorisation measures, written by the real measures from tiny inputs."""
from __future__ import annotations

from pathlib import Path

import torch

from gan_study.study.data import ImageSet
from gan_study.study.metrics.measures import MeasureInputs
from gan_study.study.metrics.memorisation import Memorisation
from gan_study.study.metrics.prd import PRD

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
