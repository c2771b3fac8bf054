"""What a run keeps on disk: a cut-short checkpoint is survived, a finished run keeps only its generators."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import pytest
import torch

from gan_study.study.config import validate
from gan_study.study.metrics import Metric
from gan_study.study.metrics.registry import register_metric
from gan_study.study.train import run_training
from gan_study.study.train.checkpoint import load_checkpoint
from gan_study.study.train.run_folder import RunFolder
from tests.conftest import compose


@register_metric("test_scripted_score")
class ScriptedScore(Metric):
    """Scores `script[i]` at a run's i-th evaluation (lower is better): 5, 1, 3 puts the best at the second."""

    objectives: ClassVar[dict[str, str]] = {"scripted": "minimize"}

    def __init__(self, script: tuple[float, ...] = (5.0, 1.0, 3.0)) -> None:
        self.script, self.calls = tuple(script), 0

    def evaluate(self, context) -> dict[str, float]:
        self.calls += 1
        return {"scripted": float(self.script[(self.calls - 1) % len(self.script)])}

    def card(self) -> dict:
        return {"script": list(self.script)}


def tiny(data_root: Path, *overrides: str):
    return validate(compose(["dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}", *overrides]))


def metrics_rows(run_dir: Path) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "wall_time_s"} for row in RunFolder(run_dir).read_metrics()]


NINE_STEPS = ("train.steps=9", "train.eval_every_steps=3")


def stop_after(steps: int):
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > steps

    return should_stop


def generators(run_dir: Path) -> list[str]:
    return sorted(p.name for p in (run_dir / "generators").iterdir())


def interrupted_at_four(cfg, run_dir: Path) -> None:
    """Checkpoints at step 3 (evaluation) and 4 (the stop): checkpoint.pt is step 4, checkpoint.prev.pt step 3."""
    assert run_training(cfg, run_dir, should_stop=stop_after(4)).status == "interrupted"
    assert load_checkpoint(run_dir / "checkpoint.pt", torch.device("cpu"))["step"] == 4
    assert load_checkpoint(run_dir / "checkpoint.prev.pt", torch.device("cpu"))["step"] == 3


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_truncated_checkpoint_falls_back_to_the_previous_one(data_root, tmp_path, caplog):
    cfg = tiny(data_root, "train.keep_checkpoint=true")  # 6 steps, evaluations at 3 and 6
    straight = run_training(cfg, tmp_path / "straight")
    interrupted_at_four(cfg, tmp_path / "cut")
    cut_in_half(tmp_path / "cut" / "checkpoint.pt")
    with caplog.at_level(logging.WARNING, logger="gan_study.train"):
        resumed = run_training(cfg, tmp_path / "cut")
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and "checkpoint.pt is unusable" in warnings[0] and "\n" not in warnings[0]
    assert warnings[0].endswith("resuming from the previous checkpoint checkpoint.prev.pt (step 3)")
    assert resumed.status == "completed" and resumed.resumed_from_step == 3 and resumed.steps_run_this_process == 3
    assert metrics_rows(tmp_path / "cut") == metrics_rows(tmp_path / "straight")  # 3 once, then 6
    a, b = (load_checkpoint(tmp_path / run / "checkpoint.pt", torch.device("cpu")) for run in ("straight", "cut"))
    assert all(torch.equal(a["generator"][k], b["generator"][k]) for k in a["generator"])
    assert resumed.final == straight.final
    # train.keep_checkpoint=true: the finished run keeps its whole state beside its generator
    assert a["step"] == 6 and {"discriminator", "optimizer_g", "optimizer_d"} <= set(a)
    assert generators(tmp_path / "straight") == ["step_0000006.pt"]  # eval=none: no best, the last only


def test_with_no_good_checkpoint_the_run_starts_over(data_root, tmp_path, caplog):
    cfg = tiny(data_root)
    interrupted_at_four(cfg, tmp_path)
    first_evaluation = metrics_rows(tmp_path)
    cut_in_half(tmp_path / "checkpoint.pt")
    (tmp_path / "checkpoint.prev.pt").write_bytes(b"")  # a zero-length file, as a full disk leaves
    with caplog.at_level(logging.WARNING, logger="gan_study.train"):
        again = run_training(cfg, tmp_path)
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and warnings[0].endswith("starting the run over")
    assert again.status == "completed" and again.resumed_from_step is None and again.steps_run_this_process == 6
    rows = metrics_rows(tmp_path)
    assert [int(row["step"]) for row in rows] == [3, 6] and rows[:1] == first_evaluation  # same seed, same start


def test_a_finished_run_keeps_the_generators_of_its_best_and_last_evaluations(data_root, tmp_path):
    cfg = tiny(data_root, *NINE_STEPS, "+eval.metrics.test_scripted_score={}")
    record = run_training(cfg, tmp_path)
    assert record.status == "completed" and record.best_step == {"scripted": 6}
    assert not (tmp_path / "checkpoint.pt").exists() and not (tmp_path / "checkpoint.prev.pt").exists()
    assert generators(tmp_path) == ["step_0000006.pt", "step_0000009.pt"]  # best (6) and last (9); 3 is gone
    best = load_checkpoint(tmp_path / "generators" / "step_0000006.pt", torch.device("cpu"))
    assert best["step"] == 6 and best["config"] == cfg.to_dict() and set(best) == {"step", "generator", "config"}
    kept = sum(p.stat().st_size for p in (tmp_path / "generators").iterdir())
    parameters = sum(t.numel() * t.element_size() for t in best["generator"].values())
    assert 2 * parameters <= kept < 2 * parameters + 200_000  # two generators' tensors, plus pickle overhead


def test_a_diverged_run_keeps_the_generator_of_its_last_evaluation(data_root, tmp_path):
    cfg = tiny(data_root, "+eval.metrics.test_scripted_score={script:[5.0,nan]}")  # evaluations at 3 and 6
    record = run_training(cfg, tmp_path)
    assert record.status == "diverged" and record.reason == "scripted is nan at step 6"
    assert generators(tmp_path) == ["step_0000003.pt"] and not (tmp_path / "checkpoint.pt").exists()


@pytest.mark.parametrize("value", ["yes", 1])
def test_keep_checkpoint_must_be_a_boolean(data_root, value):
    from gan_study.study.config import ConfigError

    with pytest.raises(ConfigError, match=rf"train.keep_checkpoint = {value!r} is not allowed: true or false"):
        tiny(data_root, f"train.keep_checkpoint={value}")
