"""Short real training runs on Triangles (CPU): every loss, files, determinism, exact resume, divergence."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from gan_study.study.config import validate
from gan_study.study.train import run_training
from gan_study.study.train.checkpoint import load_checkpoint
from tests.conftest import compose
from tests.faulty_losses import register_faulty_ns_gan

MODELS = ["mm_gan", "ns_gan", "wgan", "wgan_gp", "lsgan", "dragan", "began", "vae"]


def tiny(data_root: Path, *overrides: str):
    return validate(compose(["dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}", *overrides]))


def metrics_rows(run_dir: Path, drop=("wall_time_s",)) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open() as handle:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(handle)]


@pytest.mark.parametrize("model", MODELS)
def test_every_loss_trains_and_writes_its_run_folder(model, data_root, tmp_path):
    cfg = tiny(data_root, f"model={model}")
    record = run_training(cfg, tmp_path)
    assert record.status == "completed" and record.steps == 6 and record.reason is None
    rows = metrics_rows(tmp_path)
    assert [int(row["step"]) for row in rows] == [3, 6]
    for row in rows:
        assert math.isfinite(float(row["loss_d"])) and int(row["images_seen"]) == int(row["step"]) * 16
    # G steps run at 0-based D steps 0, 1, 1 + n_disc, ...: with n_disc = 5 none falls in steps 4-6,
    # so that evaluation window has no G loss to average.
    g_rows = [row["loss_g"] != "" for row in rows]
    assert g_rows == ([True, False] if model in ("wgan", "wgan_gp", "began") else [True, True])
    assert all(math.isfinite(float(row["loss_g"])) for row in rows if row["loss_g"])
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["step_0000003.png", "step_0000006.png"]
    assert json.loads((tmp_path / "record.json").read_text())["status"] == "completed"
    assert (tmp_path / "config.yaml").exists() and not (tmp_path / "checkpoint.pt").exists()
    assert sorted(p.name for p in (tmp_path / "generators").iterdir()) == ["step_0000006.pt"]  # eval=none: last only


def test_same_seed_same_metrics_different_seed_different(data_root, tmp_path):
    first = run_training(tiny(data_root, "model=wgan_gp"), tmp_path / "a")
    again = run_training(tiny(data_root, "model=wgan_gp"), tmp_path / "b")
    other = run_training(tiny(data_root, "model=wgan_gp", "seed=1"), tmp_path / "c")
    assert first.status == again.status == other.status == "completed"
    assert metrics_rows(tmp_path / "a") == metrics_rows(tmp_path / "b")
    assert metrics_rows(tmp_path / "a") != metrics_rows(tmp_path / "c")


@pytest.mark.parametrize("model", ["dragan", "began"])
def test_resumed_run_is_bitwise_identical_to_an_uninterrupted_one(model, data_root, tmp_path):
    """N steps, a preemption, a resume to 2N == 2N steps in one go (weights, optimiser, BEGAN's k, metrics)."""
    cfg = tiny(data_root, f"model={model}", "train.steps=8", "train.eval_every_steps=4", "train.keep_checkpoint=true")
    straight = run_training(cfg, tmp_path / "straight")

    calls = {"n": 0}

    def stop_after_five_steps() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    interrupted = run_training(cfg, tmp_path / "resumed", should_stop=stop_after_five_steps)
    assert interrupted.status == "interrupted" and interrupted.steps == 5
    resumed = run_training(cfg, tmp_path / "resumed")
    assert resumed.status == "completed" and resumed.resumed_from_step == 5 and resumed.steps_run_this_process == 3

    a = load_checkpoint(tmp_path / "straight" / "checkpoint.pt", torch.device("cpu"))
    b = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt", torch.device("cpu"))
    for part in ("generator", "discriminator", "loss"):
        assert a[part].keys() == b[part].keys()
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key} differs after resume"
    assert a["step"] == b["step"] == 8
    assert metrics_rows(tmp_path / "straight") == metrics_rows(tmp_path / "resumed")
    assert straight.best == resumed.best


def test_a_finished_run_is_not_trained_again(data_root, tmp_path):
    cfg = tiny(data_root)
    first = run_training(cfg, tmp_path)
    mtime = (tmp_path / "generators" / "step_0000006.pt").stat().st_mtime_ns
    second = run_training(cfg, tmp_path)
    assert second.status == "completed" and second.steps == first.steps
    assert (tmp_path / "generators" / "step_0000006.pt").stat().st_mtime_ns == mtime


register_faulty_ns_gan("test_nan_after_three", loss="generator_loss", on_call=4, add=math.nan, from_then_on=True)
register_faulty_ns_gan("test_raises", loss="discriminator_loss", on_call=2, raises="trainer bug on purpose")


def test_a_nan_stops_the_run_as_diverged_with_its_reason(data_root, tmp_path):
    cfg = tiny(data_root, "model.name=test_nan_after_three", "model.loss_params={}")
    record = run_training(cfg, tmp_path)
    assert record.status == "diverged" and record.steps == 4
    assert record.reason == "loss_g is nan at step 4"
    assert [int(row["step"]) for row in metrics_rows(tmp_path)] == [3]  # the evaluation before it is kept
    assert sorted(p.name for p in (tmp_path / "generators").iterdir()) == ["step_0000003.pt"]  # the last evaluation
    assert load_checkpoint(tmp_path / "generators" / "step_0000003.pt", torch.device("cpu"))["step"] == 3
    assert run_training(cfg, tmp_path).status == "diverged"  # an outcome: re-running does not retry it


def test_a_crash_is_recorded_as_failed_with_the_traceback(data_root, tmp_path):
    cfg = tiny(data_root, "model.name=test_raises", "model.loss_params={}")
    with pytest.raises(RuntimeError, match="on purpose"):
        run_training(cfg, tmp_path)
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["status"] == "failed" and "trainer bug on purpose" in record["reason"]
    assert "Traceback" in record["reason"]
