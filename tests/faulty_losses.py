"""NS GAN losses that fault on a known call: real training up to a divergence, or a crash, at a known step.

Each test registers one under its own name and trains it through the real run loop with `model.name=<name>`.
"""
from __future__ import annotations

from gan_study.models.losses import LossOutput, get_loss, register_loss


def register_faulty_ns_gan(name: str, *, loss: str, on_call: int, add: float | None = None,
                           from_then_on: bool = False, raises: str | None = None) -> type:
    """NS GAN whose `loss` ("generator_loss" or "discriminator_loss") gets `add` (nan or inf) added, or raises
    RuntimeError(`raises`), on its `on_call`-th call (and every later one when `from_then_on`)."""
    base = get_loss("ns_gan")

    def __init__(self, **params) -> None:
        base.__init__(self, **params)
        self.calls = 0

    def faulty(self, nets, real, z) -> LossOutput:
        self.calls += 1
        hit = self.calls >= on_call if from_then_on else self.calls == on_call
        if hit and raises is not None:
            raise RuntimeError(raises)
        value, logs = getattr(base, loss)(self, nets, real, z)
        return (value + add, logs) if hit else (value, logs)

    return register_loss(name)(type(f"Faulty_{name}", (base,), {"__init__": __init__, loss: faulty}))
