"""The one place a loss is added: `@register_loss("name")`; built-ins register exactly as user code does.

`LOSSES` is the shared `Registry` (`models/registry.py`) plus plugins. A loss from another package (a plugin)
declares itself in the Python entry point group `gan_study.losses` (`hinge = "my_package.loss:Hinge"` in its
pyproject.toml): pip-installed, it is found by name, and its module is imported only when that name is asked for,
so a broken plugin fails only the runs that use it. A plugin may not take a built-in's name.
"""
from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Callable

from gan_study.models.losses.base import GANLoss
from gan_study.models.registry import Registry

ENTRY_POINT_GROUP = "gan_study.losses"


class LossPluginError(RuntimeError):
    """A loss plugin that cannot be used: it names the plugin (entry point, distribution) and the cause."""


class LossRegistry(Registry[type[GANLoss]]):
    """The registered losses and the installed plugins' losses (listed without importing them)."""

    def __init__(self):
        super().__init__("loss", "model.name", base=GANLoss)
        self.plugins: dict[str, EntryPoint] | None = None  # read once, on first use

    def available(self) -> list[str]:
        return sorted({*self.entries, *self._plugins()})

    def get(self, name: str) -> type[GANLoss]:
        """The loss class registered as `name`, importing its plugin on first use."""
        plugins = self._plugins()
        if name not in self.entries and name in plugins:
            self._load(plugins[name])
        return super().get(name)

    def _plugins(self) -> dict[str, EntryPoint]:
        """The installed plugins by loss name; one that takes a built-in's name, or two for one name, are refused."""
        if self.plugins is None:
            found: dict[str, EntryPoint] = {}
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                name = entry_point.name
                taken = self.entries.get(name)
                if taken is not None and _is_built_in(taken.target):
                    raise LossPluginError(
                        f"loss plugin {describe_plugin(entry_point)} is refused: {name!r} is the built-in "
                        f"{taken.target.__module__}.{taken.target.__qualname__}; rename the entry point (and the "
                        "loss) in the plugin's pyproject.toml, or uninstall it")
                if name in found and found[name].value != entry_point.value:
                    raise LossPluginError(f"two loss plugins declare {name!r}: {describe_plugin(found[name])} and "
                                          f"{describe_plugin(entry_point)}; uninstall one or rename its entry point")
                found[name] = entry_point
            self.plugins = found
        return self.plugins

    def _load(self, entry_point: EntryPoint) -> None:
        """Import a plugin's loss and register it under its entry point name (unless its module already did)."""
        name, where = entry_point.name, describe_plugin(entry_point)
        try:
            loaded = entry_point.load()
        except Exception as error:  # any failure of the plugin's import is the plugin's, reported as such
            raise LossPluginError(f"loss plugin {where} cannot be imported: {type(error).__name__}: {error}") from error
        if name in self.entries and self.entries[name].target is loaded:
            return  # its module registered it with @register_loss(name)
        if not (isinstance(loaded, type) and issubclass(loaded, GANLoss)):
            raise LossPluginError(f"loss plugin {where} points to {loaded!r}; allowed: a subclass of "
                                  "gan_study.models.losses.GANLoss")
        if any(entry.target is loaded for entry in self.entries.values()):
            raise LossPluginError(f"loss plugin {where} points to a class registered as {loaded.name!r}; the entry "
                                  "point's name must be the loss's registered name")
        try:
            self.add(name, loaded)
        except ValueError as error:
            raise LossPluginError(f"loss plugin {where}: {error}") from error


LOSSES = LossRegistry()


def register_loss(name: str) -> Callable[[type[GANLoss]], type[GANLoss]]:
    """Class decorator: make `cls` available as `get_loss(name)` (`model.name` in configs) and set `cls.name`."""
    return LOSSES.register(name)


def get_loss(name: str) -> type[GANLoss]:
    """The loss class registered as `name`, importing its plugin on first use."""
    return LOSSES.get(name)


def available_losses() -> list[str]:
    """Registered losses and installed plugins' losses (a plugin's module is not imported to list it)."""
    return LOSSES.available()


def _is_built_in(cls: type) -> bool:
    return cls.__module__.startswith(f"{__package__}.")


def describe_plugin(entry_point: EntryPoint) -> str:
    """`'hinge = my_package.loss:Hinge' (gan_study.losses) of my-gan-plugin 0.1.0`: what to look for and where."""
    dist = getattr(entry_point, "dist", None)
    owner = f" of {dist.metadata['Name']} {dist.version}" if dist is not None else ""
    return f"'{entry_point.name} = {entry_point.value}' ({entry_point.group}){owner}"
