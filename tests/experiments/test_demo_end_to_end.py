"""The main job end to end, scaled down: gan-sweep (local processes) → run folders → storage → gan-report."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCALED_DOWN = ["models=[ns_gan,lsgan]", "n_trials=2", "train.steps=4", "train.eval_every_steps=2",
               "train.batch_size=16", "train.train_size=256", "train.sample_grid=4",
               "eval.metrics.triangles_pr.n=16", "eval.metrics.triangles_pr.recall_pool=16",
               "eval.metrics.triangles_pr.recall_steps=2", "eval.bn_stats_batches=2"]
MAKEFILE_DEMO_ARGS = ["storage.url=runs/demo/studies.journal", "launcher=local", "launcher.max_parallel=2",
                      "launcher.threads_per_trial=1"]  # what `make demo` adds to the preset


def run(command: list[str], cwd: Path, data_root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAN_STUDY_DATA": str(data_root)}
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, f"{command[0]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.mark.slow
def test_scaled_down_demo_runs_and_its_report_agrees_with_the_storage(tmp_path, data_root):
    sweep = [str(BIN / "gan-sweep"), "experiment=demo", *MAKEFILE_DEMO_ARGS, *SCALED_DOWN]
    run(sweep, tmp_path, data_root)
    journal = tmp_path / "runs" / "demo" / "studies.journal"
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    best = {}
    for model in ("ns_gan", "lsgan"):
        study = optuna.load_study(study_name=f"demo-{model}", storage=storage)
        trials = study.get_trials(deepcopy=False)
        assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 2
        assert all((tmp_path / "runs" / "demo" / f"demo-{model}" / str(t.number) / "record.json").exists()
                   for t in trials)
        best[model] = min(t.value for t in trials)

    again = run(sweep, tmp_path, data_root)  # re-running resumes: nothing is trained twice
    assert "4/4 done" in again.stdout + again.stderr
    assert all(len(optuna.load_study(study_name=f"demo-{m}", storage=storage).trials) == 2 for m in best)

    report = run([str(BIN / "gan-report"), f"storage.url={journal}", "study=[demo-ns_gan,demo-lsgan]",
                  "metric=precision_median_distance", f"out={tmp_path / 'report'}"], tmp_path, data_root)
    page = tmp_path / "report" / "report.html"
    assert page.exists() and "data:image/png;base64," in page.read_text()
    assert any((tmp_path / "report" / "figures").glob("*.png"))
    summary = pd.read_csv(tmp_path / "report" / "tables" / "search_summary.csv")
    for model, value in best.items():
        row = summary.loc[summary["model"] == model].iloc[0]
        assert row["trials"] == 2 and row["best"] == pytest.approx(value)
    assert str(page.resolve()) in report.stdout


DIGITS_SCALED_DOWN = ["models=[lsgan]", "n_trials=1", "train.steps=4", "train.eval_every_steps=2",
                      "train.batch_size=16", "train.sample_grid=10", "eval.metrics.fid.n_real=32",
                      "eval.metrics.fid.n_generated=32", "+eval.metrics.fid.encoder_options={epochs:1}",
                      "eval.metrics.gan_train_test.n_test=40", "+eval.metrics.gan_train_test.n_train=40",
                      "eval.metrics.gan_train_test.classifier.epochs=1", "eval.bn_stats_batches=2"]


@pytest.mark.slow
def test_scaled_down_digits_demo_reports_the_cpu_fid_gan_train_test_and_sample_grids(tmp_path, data_root):
    """make demo's second part: a conditional study on the UCI digits; FID on the CPU encoder, never the paper's."""
    run([str(BIN / "gan-sweep"), "experiment=demo_digits", *MAKEFILE_DEMO_ARGS, *DIGITS_SCALED_DOWN],
        tmp_path, data_root)
    journal = tmp_path / "runs" / "demo" / "studies.journal"
    study = optuna.load_study(study_name="demo_digits-lsgan", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))))
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.value == trial.user_attrs["best_fid_domain_classifier"]  # the objective says which FID it is
    assert "best_fid" not in trial.user_attrs and 0 <= trial.user_attrs["best_gan_test"] <= 1

    run([str(BIN / "gan-report"), f"storage.url={journal}", "study=[demo_digits-lsgan]",
         "metric=fid_domain_classifier", f"out={tmp_path / 'report'}"], tmp_path, data_root)
    figures = {path.stem for path in (tmp_path / "report" / "figures").glob("*.png")}
    assert {"samples", "gan_train_vs_gan_test"} <= figures
    assert "fid_domain_classifier" in (tmp_path / "report" / "report.html").read_text()
