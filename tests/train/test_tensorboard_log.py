"""TensorBoard event files of a real short run, read back with tensorboard's own event reader, and losses.csv."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_study.study.config import ConfigError, validate
from gan_study.study.train import run_training
from tests.conftest import compose

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

TRIANGLES_PR = ["eval=none", "+eval.metrics.triangles_pr={n:16,recall_pool:16,recall_steps:2}"]


def tiny(data_root: Path, *overrides: str):
    return validate(compose(["dataset=triangles", "train=tiny", "model=wgan_gp", f"data_root={data_root}",
                             *TRIANGLES_PR, *overrides]))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def events(run_dir: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0,
                                                                                 "tensors": 0})
    accumulator.Reload()
    return accumulator


def scalars(accumulator: EventAccumulator, tag: str) -> dict[int, float]:
    return {event.step: event.value for event in accumulator.Scalars(tag)}


def test_event_files_hold_losses_metrics_sample_grid_and_hparams(data_root, tmp_path):
    cfg = tiny(data_root)
    record = run_training(cfg, tmp_path)
    assert record.status == "completed"
    accumulator = events(tmp_path)

    # the logging cadence (every 2 steps): TensorBoard and losses.csv hold the same values
    losses = read_csv(tmp_path / "losses.csv")
    assert [int(row["step"]) for row in losses] == [2, 4, 6]
    for key in ("loss_d", "loss_g", "gradient_penalty", "images_per_s"):
        assert scalars(accumulator, f"train/{key}") == pytest.approx(  # event files store float32
            {int(row["step"]): float(row[key]) for row in losses if row[key]}, rel=1e-6)
    # n_disc = 5: G updates at 0-based D steps 0, 1, 6 (steps 1, 2, 7): only the first window has a G loss
    assert [row["loss_g"] != "" for row in losses] == [True, False, False]

    # every metric at each evaluation, as metrics.csv has it
    metrics = read_csv(tmp_path / "metrics.csv")
    for key in ("precision", "recall", "f1", "precision_median_distance"):
        assert scalars(accumulator, f"eval/{key}") == pytest.approx(
            {int(row["step"]): float(row[key]) for row in metrics}, rel=1e-6)

    # the sample grid: the pixels of the PNG in samples/ (TensorBoard truncates to 8 bits where the PNG rounds)
    images = {event.step: event for event in accumulator.Images("samples")}
    assert sorted(images) == [3, 6]
    shown = np.asarray(Image.open(io.BytesIO(images[6].encoded_image_string)).convert("RGB"))
    saved = np.asarray(Image.open(tmp_path / "samples" / "step_0000006.png").convert("RGB"))
    assert shown.shape == saved.shape and np.abs(shown.astype(int) - saved.astype(int)).max() <= 1

    # HParams: the run's hyperparameters and its best / final scores
    content = accumulator.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["lr"].number_value == pytest.approx(cfg.model.lr)
    assert start.hparams["n_disc"].number_value == cfg.model.n_disc
    assert start.hparams["model"].string_value == "wgan_gp" and start.hparams["status"].string_value == "completed"
    assert start.hparams["loss_params.penalty_weight"].number_value == pytest.approx(
        cfg.model.loss_params["penalty_weight"])
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert "hparams/best_f1" in {info.name.tag for info in experiment.metric_infos}
    best = json.loads((tmp_path / "record.json").read_text())["best"]
    assert scalars(accumulator, "hparams/best_f1") == {6: pytest.approx(best["f1"], rel=1e-6)}


def test_resume_drops_the_events_and_loss_rows_of_lost_steps(data_root, tmp_path):
    """Stopped after step 3's checkpoint, the run resumes there: one value per step, as uninterrupted."""
    steps = iter(range(100))
    run_training(tiny(data_root), tmp_path, should_stop=lambda: next(steps) == 5)  # stops before step 6
    assert [int(row["step"]) for row in read_csv(tmp_path / "losses.csv")] == [2, 4]
    run_training(tiny(data_root), tmp_path)
    assert [int(row["step"]) for row in read_csv(tmp_path / "losses.csv")] == [2, 4, 6]
    accumulator = events(tmp_path)
    assert sorted(scalars(accumulator, "train/loss_d")) == [2, 4, 6]
    assert sorted(scalars(accumulator, "eval/f1")) == [3, 6]


def test_switched_off_writes_no_event_files(data_root, tmp_path):
    run_training(tiny(data_root, "train.tensorboard=false"), tmp_path)
    assert not (tmp_path / "tensorboard").exists() and (tmp_path / "losses.csv").exists()
    with pytest.raises(ConfigError, match="train.tensorboard"):
        tiny(data_root, "train.tensorboard=sometimes")
