"""The trials of a study, fixed before any runs: a pure function of the space, the seed and the defaults.

Parallel workers therefore never draw duplicates, and a study rebuilt from its seed is identical. The
list is prefix-stable: the first k trials of a list of n are the list of k, so `n_trials` can grow.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping

from gan_study.study.search.space import SearchSpace


@dataclass(frozen=True)
class PlannedTrial:
    """One entry of a study's list: every parameter value, the training seed and its provenance."""

    index: int
    values: dict[str, Any] = field(hash=False)
    seed: int
    is_default: bool = False
    outside_space: tuple[str, ...] = ()


def search_trials(space: SearchSpace, n_trials: int, seed: int, defaults: Mapping[str, Any] | None,
                  training_seed: int = 0) -> list[PlannedTrial]:
    """Trial 0 = `defaults` (unless None), then random draws; every trial trains with `training_seed`.

    Each model draws from its own stream, seeded by "<seed>/<model>" (string seeds hash with SHA-512: stable
    across runs and Python versions), so two models' lists are independent, as in the paper's one stream.
    The draws do not depend on whether defaults are included: draw j is the same either way.
    """
    rng = random.Random(f"{seed}/{space.model}")
    planned: list[PlannedTrial] = []
    if defaults is not None and n_trials > 0:
        values = dict(defaults)
        planned.append(PlannedTrial(0, values, training_seed, True, tuple(space.outside(values))))
    while len(planned) < n_trials:
        planned.append(PlannedTrial(len(planned), space.draw(rng), training_seed))
    return planned


def seed_trials(values: Mapping[str, Any], n_seeds: int) -> list[PlannedTrial]:
    """One configuration with training seeds 0..n_seeds-1 (the paper's phase 3)."""
    return [PlannedTrial(i, dict(values), i) for i in range(n_seeds)]
