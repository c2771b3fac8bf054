"""Measures beyond FID that read the FID pass (`eval.metrics.fid.measures.<name>`): no second forward pass.

A measure sees the reference and generated features of the `fid` metric's one encoder pass (and, when it
asks, the generated images of that pass and the training split's features) and returns named values with
a card. Feature-based values carry the encoder suffix of the FID values (`improved_precision_vgg16_fc7`).
Built-ins register themselves in their own modules, exactly as a user's measure does.
"""
from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np
import torch

from gan_study.models.registry import Registry
from gan_study.study.data.image_set import ImageSet
from gan_study.study.files import write_atomically, write_text_atomically


@dataclass
class MeasureInputs:
    real: torch.Tensor
    """(n_real, d) float32 reference features of the FID pass, on the evaluation device."""
    fake: torch.Tensor
    """(n_generated, d) float32 generated features of the same pass, on the evaluation device."""
    real_images: ImageSet
    """The first n_real reference images (on the CPU)."""
    fake_images: torch.Tensor | None
    """(n_generated, C, H, W) float [0, 1] generated images of the pass, on the CPU, if a measure needs them."""
    generated_images: Callable[[torch.Tensor], torch.Tensor]
    """`generated_images(indices)`: those few generated images again (from their evaluation latents), on the CPU."""
    train: Callable[[int | None], tuple[torch.Tensor, ImageSet]]
    """`train(n)`: (features, images) of the first n training images (None: all), encoded once and cached."""
    artefacts: Path | None
    """A folder of the run for the measure's curves and images (None outside a training run)."""


class Measure(ABC):
    name: ClassVar[str]
    needs_images: ClassVar[bool] = False
    """True: it reads the generated images (the pass keeps them on the CPU)."""
    feature_based: ClassVar[bool] = True
    """True: its values are named with the encoder's suffix, like FID's."""

    @property
    @abstractmethod
    def objectives(self) -> dict[str, str]:
        """Value name (without the encoder suffix) -> "minimize" | "maximize"."""

    @abstractmethod
    def evaluate(self, inputs: MeasureInputs) -> dict[str, float]:
        """Values named as in `objectives`."""

    @abstractmethod
    def card(self) -> dict[str, Any]:
        """The reference, the protocol and every option that made the numbers."""


MEASURES: Registry[type[Measure]] = Registry("measure", "eval.metrics.fid.measures", base=Measure)


def register_measure(name: str) -> Callable[[type[Measure]], type[Measure]]:
    """Class decorator: make `cls` available as `eval.metrics.fid.measures.<name>`."""
    return MEASURES.register(name)


def build_measures(options: Any) -> dict[str, Measure]:
    """The configured measures: a mapping name -> its options (a mapping, or null for the defaults)."""
    if options is None:
        return {}
    if not hasattr(options, "items"):
        raise ValueError(f"measures = {options!r} is not allowed: a mapping of measure name -> options, "
                         f"names among {MEASURES.available()}")
    built = {}
    for name, measure_options in options.items():
        if measure_options is not None and not hasattr(measure_options, "items"):
            raise ValueError(f"measures.{name} = {measure_options!r} is not allowed: a mapping of options (or {{}})")
        built[name] = MEASURES.build(name, **dict(measure_options or {}))
    return built


def reject_unknown(cls: type, unknown: dict[str, Any]) -> None:
    """A clear error for options a measure does not have, naming the allowed ones."""
    if unknown:
        allowed = [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "unknown")]
        raise ValueError(f"measures.{cls.name}: unknown option(s) {sorted(unknown)}; allowed: {allowed}")


def write_artefact(folder: Path, name: str, payload: dict[str, Any]) -> Path:
    """`folder/name` (.json: JSON; .npz: numpy arrays), written atomically: a reader never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if name.endswith(".npz"):
        write_atomically(path, lambda handle: np.savez(handle, **payload))
    else:
        write_text_atomically(path, json.dumps(payload))
    return path
