"""Divergence detection without a host round trip per step: the check runs on the device, is read back later.

Reading a value back every step (`float(loss)`, `bool(torch.isfinite(...))`) makes the host wait for the
GPU to finish that step before it can queue the next, which leaves a fast GPU idle between small kernels.
`DivergenceWatch` instead keeps, per step, a device flag "all of this step's values are finite" and the
step's values; `first_divergence()` reads all pending flags back at once (the trainer calls it at the
logging cadence, before every evaluation and checkpoint, and at the end), and names the first non-finite
step and value exactly as a per-step check would have.
"""
from __future__ import annotations

import math

import torch


class DivergenceWatch:
    """Pending steps' finite flags (on the device) and values, until the next read-back."""

    def __init__(self) -> None:
        self.pending: list[tuple[int, dict[str, torch.Tensor], torch.Tensor]] = []

    def observe(self, step: int, logs: dict[str, torch.Tensor]) -> None:
        """Queue step `step`'s values; nothing is read back."""
        values = torch.stack([value.detach().float().reshape(()) for value in logs.values()])
        self.pending.append((step, logs, torch.isfinite(values).all()))

    def first_divergence(self) -> tuple[int, str] | None:
        """(step, reason) of the first pending step with a non-finite value, or None; one read-back for all.

        The reason reads "<key> is <value> at step <step>", the first non-finite key in the step's log order.
        """
        if not self.pending:
            return None
        pending, self.pending = self.pending, []
        finite = torch.stack([flag for _, _, flag in pending]).cpu()
        if bool(finite.all()):
            return None
        step, logs, _ = pending[int((~finite).nonzero()[0])]
        key = next(key for key, value in logs.items() if not math.isfinite(float(value)))
        return step, f"{key} is {float(logs[key])} at step {step}"
