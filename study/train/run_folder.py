"""The files of one run: config.yaml, metrics.csv, losses.csv, samples/, checkpoint.pt (+ .prev.pt), generators/,
record.json, tensorboard/."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import torch
import yaml
from gan_study.study.files import write_text_atomically
from gan_study.study.train.image_grid import tile, write_png


class RunFolder:
    """Owns the paths of a run and writes its files so that a crash never leaves a half-written one."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.config = self.root / "config.yaml"
        self.metrics = self.root / "metrics.csv"
        self.losses = self.root / "losses.csv"
        self.tensorboard = self.root / "tensorboard"
        self.samples = self.root / "samples"
        self.checkpoint = self.root / "checkpoint.pt"
        self.generators = self.root / "generators"
        self.record = self.root / "record.json"

    def create(self, config: dict[str, Any]) -> None:
        self.samples.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.config, yaml.safe_dump(_plain(config), sort_keys=False))

    def read_metrics(self) -> list[dict[str, str]]:
        return self._read_rows(self.metrics)

    def truncate_metrics(self, last_step: int) -> None:
        """Drop rows written after the checkpoint we resume from, so a resumed run never duplicates a row."""
        rows = [row for row in self.read_metrics() if int(row["step"]) <= last_step]
        self._write_rows(rows)

    def append_metrics(self, row: dict[str, Any]) -> None:
        rows = self.read_metrics()
        rows.append({key: _csv_value(value) for key, value in row.items()})
        self._write_rows(rows)

    def _write_rows(self, rows: list[dict[str, Any]], path: Path | None = None) -> None:
        path = path or self.metrics
        columns: list[str] = []
        for row in rows:
            columns += [key for key in row if key not in columns]
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomically(path, text.getvalue())

    def append_losses(self, row: dict[str, Any]) -> None:
        """One row per progress line (step, wall time, images/s, mean losses since the last line; a window
        without a G step has no loss_g)."""
        self._write_rows([*self._read_rows(self.losses), {key: _csv_value(value) for key, value in row.items()}],
                         self.losses)

    def truncate_losses(self, last_step: int) -> None:
        """Resuming from a checkpoint at `last_step` drops the rows the lost steps wrote."""
        self._write_rows([row for row in self._read_rows(self.losses) if int(row["step"]) <= last_step], self.losses)

    @staticmethod
    def _read_rows(path: Path) -> list[dict[str, str]]:
        if not path.exists():
            return []
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))

    def save_samples(self, images: torch.Tensor, step: int, per_row: int | None = None) -> torch.Tensor:
        """A grid PNG of generated images (people would rather look than read): square, or `per_row` a row.

        Returns the grid image, (C, H, W) in [0, 1], for other viewers (TensorBoard).
        """
        nrow = per_row or max(1, int(len(images) ** 0.5))
        grid = tile(images.float().clamp(0, 1), nrow)
        write_png(grid, self.samples / f"step_{step:07d}.png")
        return grid


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)  # round-trips exactly
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
