"""The config tree a sweep composes from: gan-study's `conf/` plus the folders on `hydra.searchpath`.

A user's loss brings its own `model/<name>.yaml` and `search/<space>/<name>.yaml` in a config folder of theirs
(docs/adding_a_loss.md). Everything the driver composes again — another model of `models=[...]`, the models of
`models=all` — must see that folder too, so it goes through here with the command line's search path.
"""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Callable, ContextManager, Sequence

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from gan_study.study.config import ConfigError

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
SEARCHPATH = "hydra.searchpath"

SPACE_EXAMPLE = """\
defaults:
  - common      # the ranges every model shares in this space (gan-study's search/<space>/common.yaml)
  - _self_
# params:       # and the loss's own hyperparameters, e.g.
#   margin: {path: model.loss_params.margin, type: float, low: 0.1, high: 10.0, log: true}"""


def searchpath_overrides() -> list[str]:
    """The `hydra.searchpath=[...]` word of the running command, as typed (none outside a Hydra app)."""
    if not HydraConfig.initialized():
        return []
    return [o for o in HydraConfig.get().overrides.hydra if o.split("=", 1)[0].lstrip("+~") == SEARCHPATH]


def searchpath_folders() -> list[Path]:
    """The folders the command line put on the search path (`file://` entries), in order."""
    if not HydraConfig.initialized():
        return []
    return [Path(entry[len("file://"):]).absolute() for entry in HydraConfig.get().searchpath or []
            if entry.startswith("file://")]


def conf_loaded() -> ContextManager:
    """gan-study's conf/ loaded for Hydra's compose API; inside a running Hydra app (gan-sweep) the app's own
    loader, which already holds the command line's search path."""
    if GlobalHydra.instance().is_initialized():
        return nullcontext()
    return initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3")


def compose_config(config_name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """conf/<config_name>.yaml with the overrides, as the CLIs compose it, on the running command's search path
    (so a user's own config folder, given with hydra.searchpath=[file://...], is seen)."""
    with conf_loaded():
        return compose(config_name=config_name, overrides=[*searchpath_overrides(), *overrides])


def composer() -> Callable[[str], DictConfig]:
    """Compose the sweep config again for another model, with the command line's other overrides and search path."""
    overrides = [o for o in HydraConfig.get().overrides.task
                 if o.split("=", 1)[0].lstrip("+~") not in ("model", "models")]
    return lambda model: compose_config("sweep", [*overrides, f"model={model}"])


def group_options(group: str) -> list[str]:
    """The options of a config group over the whole search path (gan-study's and the user's folders)."""
    with conf_loaded():
        return GlobalHydra.instance().config_loader().get_group_options(group, config_name="sweep",
                                                                          overrides=searchpath_overrides())


def models_with_space(space: str) -> list[str]:
    """`models=all`: every model (conf/model/<name>.yaml) that has a space conf/search/<space>/<name>.yaml."""
    spaces = set(group_options(f"search/{space}"))
    return [model for model in group_options("model") if model in spaces]


def missing_space(model: str, space: str) -> ConfigError:
    """The error for a model without a space in `space`: the file to add, in the user's folder, and its content."""
    folders = searchpath_folders()
    holder = next((f for f in folders if (f / "model" / f"{model}.yaml").exists()), folders[0] if folders else None)
    if holder is None:
        where = (f"search/{space}/{model}.yaml in a config folder of yours, given to every command with "
                 f"hydra.searchpath=[file://$PWD/conf] (then $PWD/conf/search/{space}/{model}.yaml)")
    else:
        where = str(holder / "search" / space / f"{model}.yaml")
    covered = models_with_space(space)
    return ConfigError(f"search = {space!r} has no space for model {model!r} (it covers {covered}); add {where}, "
                       f"for example:\n{SPACE_EXAMPLE}")
