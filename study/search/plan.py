"""From a composed sweep config to study plans: the spec, the trial list and each trial's training config.

Everything here is checked before anything runs: the space, the objective, the study name and every
pending trial's training config (through `gan_study.study.config.validate`).
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from optuna.trial import FrozenTrial, TrialState

from gan_study.models.checks import flag, integer
from gan_study.study.config import ConfigError, TrainRunConfig, validate
from gan_study.study.protocol_keys import protocol_of
from gan_study.study.search.objective import Objective, resolve_objective
from gan_study.study.search.samplers import SamplerSpec
from gan_study.study.search.space import Param, SearchSpace, set_path
from gan_study.study.search.study import SEEDS_SEARCH, StudySpec, differences, load_study
from gan_study.study.search.task import TrialTask
from gan_study.study.search.trial_list import PlannedTrial, search_trials, seed_trials


def training_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a composed sweep config that `gan-train` would see (what every trial starts from)."""
    return {f.name: copy.deepcopy(config[f.name]) for f in fields(TrainRunConfig) if f.name in config}


def study_name(name: Any, key: str = "study_name") -> str:
    """A study name as composed (interpolations such as ${model.name} already resolved for this model)."""
    if not isinstance(name, str) or not name or "/" in name:
        raise ConfigError(f"{key} = {name!r} is not allowed: a non-empty name without '/'")
    return name


@dataclass
class StudyPlan:
    """One study to create or resume, and how to turn its trials into tasks."""

    spec: StudySpec
    trials: list[PlannedTrial]
    base: dict[str, Any]
    """The composed training config of the model before any trial's values are applied."""
    storage_url: str
    runs_root: Path
    check_files: bool = True
    """False for a dry run: the files a real run needs (metric weights) are not looked for."""
    _configs: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    def config(self, values: Mapping[str, Any], seed: int) -> dict[str, Any]:
        """The validated training config of one trial (plain data, as TrialTask carries it); validated once."""
        key = json.dumps([values, seed], sort_keys=True)
        if key not in self._configs:
            self._configs[key] = self._validated(values, seed)
        return self._configs[key]

    def _validated(self, values: Mapping[str, Any], seed: int) -> dict[str, Any]:
        config = copy.deepcopy(self.base)
        for param in self.spec.space.params:
            set_path(config, param.path, values[param.name])
        config["seed"] = seed
        try:
            return validate(config, check_files=self.check_files).to_dict()
        except ConfigError as error:
            shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
            raise ConfigError(f"study {self.name}: the trial with {shown} has an invalid config: {error}") from None

    def task(self, trial: FrozenTrial) -> TrialTask:
        attrs = trial.user_attrs
        return TrialTask(self.storage_url, self.name, trial.number, attrs["run_dir"],
                         self.config(attrs["hyperparameters"], int(attrs["seed"])))


def plan_search(sweep: Mapping[str, Any], storage_url: str, *, check_files: bool = True) -> StudyPlan:
    """The search study of one model (a composed sweep config): trial 0 = its defaults, then seeded draws."""
    config = sweep
    model, dataset = config["model"]["name"], config["dataset"]["name"]
    search = sweep["search"]
    if search.get("space") is None:  # gan-sweep says which file to add, in which folder, before this
        raise ConfigError(f"search = {search.get('name')!r} has no space for model {model!r}: no "
                          f"search/{search.get('name')}/{model}.yaml on the config search path")
    space = SearchSpace.from_config(str(search.get("name")), model, search["space"])
    n_trials = integer("n_trials", sweep["n_trials"], 1)
    include_defaults = flag("include_defaults", sweep["include_defaults"])
    sampler = SamplerSpec(**dict(sweep["sampler"]), pruner=dict(sweep.get("pruner") or {}) or None)
    base_run = validate(training_config(config), check_files=check_files).to_dict()
    spec = StudySpec(
        name=study_name(sweep["study_name"]), model=model, dataset=dataset,
        search=space.name, space=space, objective=resolve_objective(sweep["objective"], base_run["eval"]["metrics"]),
        sampler=sampler, include_defaults=include_defaults, protocol=protocol_of(base_run))
    defaults = space.defaults(config) if include_defaults else None
    if sampler.adaptive:  # the sampler proposes the rest while the study runs
        trials = search_trials(space, 1, sampler.seed, defaults, base_run["seed"]) if defaults else []
    else:
        trials = search_trials(space, n_trials, sampler.seed, defaults, base_run["seed"])
    return StudyPlan(spec, trials, training_config(config), storage_url, Path(sweep["runs_root"]).absolute(),
                     check_files)


def best_trial(study_name_: str, trials: list[FrozenTrial], objective: Objective) -> FrozenTrial:
    """The paper's phase-3 choice (docs/protocol.md#experiments): the best finite objective over the finished runs.

    A run that diverged after measuring competes with its objective under the study's `diverged` rule (the
    paper's minimum over checkpoints by default); one scored ±inf never wins.
    """
    measured = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None
                and math.isfinite(t.value)]
    if not measured:
        raise ConfigError(f"source_study = {study_name_!r} has no finished trial with a finite "
                          f"{objective.name} to take a configuration from")
    sign = 1 if objective.direction == "minimize" else -1
    return min(measured, key=lambda t: (sign * t.value, t.number))


def plan_seeds(sweep: Mapping[str, Any], storage_url: str, *, check_files: bool = True) -> StudyPlan:
    """One model's best configuration of `source_study`, re-run with training seeds 0..n_seeds-1."""
    config = sweep
    model, dataset = config["model"]["name"], config["dataset"]["name"]
    n_seeds = integer("n_seeds", sweep["n_seeds"], 1)
    source_name = study_name(sweep["source_study"], "source_study")
    source = load_study(storage_url, source_name)
    stored = source.user_attrs.get("gan_study") or {}
    if stored.get("model") != model:
        raise ConfigError(f"source_study = {source_name!r} is a study of {stored.get('model')!r}, not {model!r}")
    objective = Objective.stored(stored["objective"])
    chosen = best_trial(source_name, source.get_trials(deepcopy=False), objective)
    source_space = SearchSpace.from_dict(stored["space"])
    values = chosen.user_attrs["hyperparameters"]
    space = SearchSpace(SEEDS_SEARCH, model, tuple(Param(p.name, p.path, "fixed", value=values[p.name])
                                                   for p in source_space.params))
    base_run = validate(training_config(config), check_files=check_files).to_dict()
    protocol = protocol_of(base_run)
    changed = [line for line in differences(stored["protocol"], json.loads(json.dumps(protocol)))
               if not line.startswith(("seed:", "model."))]
    if changed:
        raise ConfigError(f"the seed study must train as {source_name!r} did (same dataset/train/eval overrides), "
                          "but:\n  " + "\n  ".join(changed))
    spec = StudySpec(
        name=study_name(sweep["study_name"]), model=model, dataset=dataset,
        search=SEEDS_SEARCH, space=space, objective=objective, sampler=SamplerSpec("random"),
        include_defaults=False, protocol=protocol,
        source={"study": source_name, "trial": chosen.number, objective.name: chosen.value})
    return StudyPlan(spec, seed_trials(values, n_seeds), training_config(config), storage_url,
                     Path(sweep["runs_root"]).absolute(), check_files)
