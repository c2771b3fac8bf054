"""The sweep's studies: which models it covers (`models=`), and one validated plan per model."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from gan_study.launch.config_tree import missing_space, models_with_space
from gan_study.models.checks import refuse
from gan_study.study.config import ConfigError
from gan_study.study.search.credentials import for_workers
from gan_study.study.search.plan import StudyPlan, plan_search, plan_seeds
from gan_study.study.search.storage import absolute_url


def model_names(cfg: Mapping[str, Any]) -> list[str]:
    """`models=null`: the model group's model; a list; or `all`: every model with a space in the search (the
    config tree's `search/<space>/<model>.yaml` files, the user's folders on hydra.searchpath included)."""
    models = cfg.get("models")
    if OmegaConf.is_config(models):
        models = OmegaConf.to_container(models)
    if models is None:
        return [cfg["model"]["name"]]
    if models == "all":
        covered = models_with_space(str(cfg["search"]["name"]))  # the model group's model first, then by name
        return sorted(covered, key=lambda name: (name != cfg["model"]["name"], name))
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, (list, tuple)) or not models or not all(isinstance(m, str) for m in models):
        refuse("models", models, "null, all, or a list such as [ns_gan,wgan_gp]")
    return list(dict.fromkeys(models))


def build_plans(cfg: DictConfig, compose_model: Callable[[str], DictConfig] | None, *,
                check_files: bool = True) -> list[StudyPlan]:
    """One plan per model, every pending trial's config validated before anything is created or run
    (`check_files=False`, a dry run: without looking for the files a real run needs, such as weights)."""
    kind = cfg.get("kind")
    storage_url = for_workers(absolute_url(str(cfg.storage.url)))  # a password goes to PGPASSWORD, never to a file
    plans = []
    for model in model_names(cfg):
        if model == cfg.model.name:
            composed = cfg
        elif compose_model is None:
            raise ConfigError(f"models = {list(cfg.models)}: composing other models needs the gan-sweep app")
        else:
            try:
                composed = compose_model(model)
            except HydraException as error:
                raise ConfigError(f"models: {model!r} cannot be composed ({error}); models are the names in "
                                  "conf/model/ (a plugin's in its config folder, on hydra.searchpath)") from None
        if kind != "seeds" and composed.search.get("space") is None:
            raise missing_space(model, str(composed.search.name))
        plain = OmegaConf.to_container(composed, resolve=True)
        plan = (plan_seeds if kind == "seeds" else plan_search)(plain, storage_url, check_files=check_files)
        for entry in plan.trials:
            plan.config(entry.values, entry.seed)
        plans.append(plan)
    names = [p.name for p in plans]
    if len(set(names)) != len(names):
        raise ConfigError(f"study_name gives the same name to several studies: {names}; include ${{model.name}}")
    return plans
