"""The one place a loss is added: `@register_loss("name")`; built-ins register exactly as user code does."""
from __future__ import annotations

from typing import Callable

from gan_study.models.losses.base import GANLoss

_LOSSES: dict[str, type[GANLoss]] = {}


def register_loss(name: str) -> Callable[[type[GANLoss]], type[GANLoss]]:
    """Class decorator: make `cls` available as `get_loss(name)` and set `cls.name`."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"loss name {name!r} is not allowed; allowed: a non-empty identifier "
                         "(letters, digits and underscores, not starting with a digit)")

    def register(cls: type[GANLoss]) -> type[GANLoss]:
        if not (isinstance(cls, type) and issubclass(cls, GANLoss)):
            raise TypeError(f"register_loss({name!r}) got {cls!r}; allowed: a subclass of gan_study.models.losses.GANLoss")
        if name in _LOSSES:
            taken = _LOSSES[name]
            raise ValueError(f"loss name {name!r} is already registered to {taken.__module__}.{taken.__qualname__}; "
                             f"choose another name (registered: {', '.join(available_losses())})")
        cls.name = name
        _LOSSES[name] = cls
        return cls

    return register


def get_loss(name: str) -> type[GANLoss]:
    """The loss class registered as `name`."""
    try:
        return _LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; allowed: {', '.join(available_losses())}") from None


def available_losses() -> list[str]:
    return sorted(_LOSSES)
