"""Training curves where people look for them: TensorBoard event files in `<run>/tensorboard/`.

`tensorboard --logdir runs/<study>` then shows every trial of a study side by side: the losses and images/s at
the logging cadence (`train/...`), every metric at each evaluation (`eval/...`), the sample grid (`samples`),
and, in the HParams view, the run's hyperparameters with its best and final scores (`hparams/best_<m>`).
`train.tensorboard: auto` writes them when the `tensorboard` package is installed (`pip install
gan-study[tensorboard]`); nothing here changes a number of the run.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Mapping

import torch

TENSORBOARD_SETTINGS = ("auto", "on", "off")


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def tensorboard_enabled(setting: str) -> bool:
    """`auto`: on exactly when the package is installed; `on` without it is refused at validation."""
    return setting == "on" or (setting == "auto" and tensorboard_available())


def run_hyperparameters(config: Mapping[str, Any]) -> dict[str, Any]:
    """What distinguishes one trial from another (TrainRunConfig.to_dict()), as the HParams view's columns."""
    model, train = config["model"], config["train"]
    values: dict[str, Any] = {"model": model["name"], "dataset": config["dataset"]["name"], "seed": config["seed"],
                              "lr": model["lr"], "beta1": model["beta1"], "beta2": model["beta2"],
                              "n_disc": model["n_disc"], "discriminator_batchnorm": model["discriminator_batchnorm"],
                              "batch_size": train["batch_size"]}
    values.update({f"loss_params.{key}": value for key, value in (model.get("loss_params") or {}).items()})
    return {key: value if isinstance(value, (bool, int, float, str)) else str(value) for key, value in values.items()}


class TensorBoardLog:
    """One run's event files. Resuming at step s drops the events written after s (TensorBoard's purge_step)."""

    def __init__(self, log_dir: Path, start_step: int):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(log_dir), purge_step=start_step or None)

    def losses(self, step: int, losses: Mapping[str, float], images_per_s: float) -> None:
        for key, value in losses.items():
            self.writer.add_scalar(f"train/{key}", value, step)
        self.writer.add_scalar("train/images_per_s", images_per_s, step)

    def evaluation(self, step: int, values: Mapping[str, float]) -> None:
        for key, value in values.items():
            self.writer.add_scalar(f"eval/{key}", value, step)

    def samples(self, step: int, grid: torch.Tensor) -> None:
        """`grid`: the sample grid PNG's image, (C, H, W) in [0, 1]."""
        self.writer.add_image("samples", grid, step)

    def outcome(self, step: int, hyperparameters: Mapping[str, Any], best: Mapping[str, float],
                final: Mapping[str, float], status: str) -> None:
        """The HParams session of this run: its hyperparameters and scores (a diverged run has no score)."""
        from torch.utils.tensorboard.summary import hparams

        scores = {f"hparams/best_{key}": value for key, value in best.items()}
        scores.update({f"hparams/final_{key}": value for key, value in final.items()})
        for summary in hparams({**hyperparameters, "status": status}, scores):
            self.writer.file_writer.add_summary(summary, step)
        for tag, value in scores.items():
            self.writer.add_scalar(tag, value, step)
        self.writer.flush()

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
