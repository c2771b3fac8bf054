"""`gan-train --help` lists the config groups gan-train composes, not every folder of conf/.

Hydra's `$APP_CONFIG_GROUPS` shows all of them, gan-sweep's `search`, `storage`, `launcher` and `experiment`
included, which gan-train ignores. The help template (conf/hydra/help/train.yaml) names its groups through
this resolver, which asks Hydra's own config loader, so a user's configs on `hydra.searchpath` are listed too.
"""
from __future__ import annotations

from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

RESOLVER = "gan_study_groups"


def group_options(*groups: str) -> str:
    """One line per group: `model: began, dragan, ...`."""
    loader = GlobalHydra.instance().config_loader()
    return "\n".join(f"{group}: {', '.join(loader.get_group_options(group))}" for group in groups)


def register_help_resolver() -> None:
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, group_options)
