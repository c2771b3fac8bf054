"""Periodic progress lines: where the run is, how fast it goes, and when it will finish."""
from __future__ import annotations

import logging
import time
from datetime import timedelta

log = logging.getLogger("gan_study.train")


class ProgressLog:
    def __init__(self, total_steps: int, start_step: int, batch_size: int, every: int, name: str):
        self.total, self.start, self.batch, self.every, self.name = total_steps, start_step, batch_size, every, name
        self.t0 = time.perf_counter()

    def due(self, step: int) -> bool:
        return step % self.every == 0 or step == self.total

    def rate(self, step: int) -> float:
        """Images per second since this process started (or resumed) the run."""
        elapsed = time.perf_counter() - self.t0
        return (step - self.start) * self.batch / elapsed if elapsed > 0 else float("nan")

    def report(self, step: int, losses: dict[str, float]) -> None:
        images_per_s = self.rate(step)
        remaining = (self.total - step) * self.batch / images_per_s if images_per_s > 0 else float("nan")
        eta = str(timedelta(seconds=round(remaining))) if remaining == remaining else "?"
        parts = " ".join(f"{key} {value:.4g}" for key, value in losses.items())
        log.info("%s step %d/%d (%.1f%%) | %s | %.0f img/s | ETA %s",
                 self.name, step, self.total, 100 * step / self.total, parts, images_per_s, eta)
