"""The gan-sweep command: dry runs, several models in one call, seed studies, refused configs."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import optuna
import pytest

from gan_study.launch.debug import DebugExecutor
from gan_study.launch.sweep import main, run_sweep
from gan_study.launch.sweep_plans import build_plans
from gan_study.study.config import ConfigError
from gan_study.study.search.results import export_trials
from stand_in_trainers import EVAL_OVERRIDES, METRIC, closed_form_fid, scored_trainer
from gan_study.study.search.storage import open_storage
from sweep_testkit import sweep_config


def test_dry_run_of_two_models_prints_their_lists_and_writes_nothing(tmp_path, monkeypatch, capsys):
    journal = tmp_path / "gan.journal"
    monkeypatch.setattr(sys, "argv", [
        "gan-sweep", "models=[ns_gan,wgan]", "dataset=mnist", "search=narrow", "n_trials=3",
        f"storage.url=journal:{journal}", f"runs_root={tmp_path / 'runs'}", f"hydra.run.dir={tmp_path / 'hydra'}",
        "hydra/job_logging=none", "hydra/hydra_logging=none", *EVAL_OVERRIDES, "--dry-run"])
    main()  # the console script, in this process
    lines = capsys.readouterr().out.splitlines()
    headers = [line for line in lines if line.startswith("study ")]
    assert [h.split(":")[0] for h in headers] == ["study mnist-narrow-ns_gan", "study mnist-narrow-wgan"]
    assert all("(new)" in h and "3 trial(s)" in h for h in headers)
    rows = [line.split() for line in lines if line.startswith("  ")]
    assert [r[0] for r in rows] == ["0", "1", "2"] * 2 and {r[1] for r in rows} == {"new"}
    # ns_gan's published default lies outside the narrow space (lr 5e-5 < 1e-4, beta1 0.0 != 0.5): flagged
    assert lines[1].endswith("[default] [outside the space: beta1,lr]")
    assert "clip=" in " ".join(lines[5:]) and "clip=" not in " ".join(lines[1:4])
    assert not journal.exists() and not (tmp_path / "runs").exists()


def test_invalid_command_line_exits_2_naming_the_field(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["gan-sweep", "n_trials=-3", f"storage.url=journal:{tmp_path / 'j'}",
                                      f"hydra.run.dir={tmp_path / 'hydra'}", "hydra/job_logging=none",
                                      "hydra/hydra_logging=none", *EVAL_OVERRIDES])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    assert "gan-sweep: invalid config: n_trials = -3 is not allowed: an integer >= 1" in capsys.readouterr().err


def test_a_rejected_command_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    (work := tmp_path / "work").mkdir()
    monkeypatch.chdir(work)  # Hydra's defaults as a user has them: no hydra.* override
    monkeypatch.setattr(sys, "argv", ["gan-sweep", "n_trials=-3", "storage.url=journal:gan.journal", *EVAL_OVERRIDES])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2 and "n_trials = -3 is not allowed" in capsys.readouterr().err
    assert sorted(work.rglob("*")) == []  # no runs/_gan-sweep/<date>/, no .hydra/, no log


def test_a_valid_sweep_keeps_its_config_and_log_in_its_driver_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(DebugExecutor, "from_config", classmethod(lambda cls, launcher, root: cls(scored_trainer)))
    monkeypatch.setattr(sys, "argv", ["gan-sweep", "model=ns_gan", "dataset=mnist", "n_trials=1", "launcher=debug",
                                      "progress_every_s=0", "storage.url=journal:gan.journal", *EVAL_OVERRIDES])
    main()
    (driver,) = (tmp_path / "runs" / "_gan-sweep").iterdir()
    assert sorted(p.name for p in (driver / ".hydra").iterdir()) == ["config.yaml", "hydra.yaml", "overrides.yaml"]
    assert "- n_trials=1" in (driver / ".hydra" / "overrides.yaml").read_text()
    assert "1/1 done" in (driver / "sweep.log").read_text()


def test_bad_sweep_settings_are_refused_before_anything_runs(tmp_path):
    url = f"journal:{tmp_path / 'gan.journal'}"
    cases = {"n_trials=0": "n_trials = 0", "objective.metric=f1": "objective.metric = 'f1'",
             "sampler.name=annealing": "sampler.name = 'annealing'", "heartbeat.grace_s=0.3": "heartbeat.grace_s",
             "models=[ns_gan,ns_gan2]": "models: 'ns_gan2' cannot be composed",
             "objective.reduce=mean": "objective.reduce = 'mean'", "train.batch_size=0": "train.batch_size = 0"}
    for override, message in cases.items():
        cfg = sweep_config(url, tmp_path / "runs", override)
        with pytest.raises(ConfigError, match=re.escape(message)):
            run_sweep(cfg, executor=DebugExecutor(scored_trainer),
                      compose_model=lambda m: sweep_config(url, tmp_path / "runs", f"model={m}"))
    assert not (tmp_path / "gan.journal").exists()


def test_seed_study_reruns_the_best_configuration_with_seeds(tmp_path):
    url = f"journal:{tmp_path / 'gan.journal'}"
    source = sweep_config(url, tmp_path / "runs", "n_trials=6", name="src-${model.name}")
    run_sweep(source, executor=DebugExecutor(scored_trainer))
    source_trials = optuna.load_study(study_name="src-wgan_gp", storage=open_storage(url)).get_trials()
    best = min(source_trials, key=lambda t: closed_form_fid(json.loads(
        (Path(t.user_attrs["run_dir"]) / "config.json").read_text())))
    seeds = sweep_config(url, tmp_path / "runs", "experiment=seeds", "n_seeds=3", "source_study=src-${model.name}",
                         name="seeds-${model.name}")
    run_sweep(seeds, executor=DebugExecutor(scored_trainer))
    study = optuna.load_study(study_name="seeds-wgan_gp", storage=open_storage(url))
    assert study.user_attrs["gan_study"]["source"] == {"study": "src-wgan_gp", "trial": best.number,
                                                       f"best_{METRIC}": best.value}
    trials = study.get_trials()
    assert [t.user_attrs["seed"] for t in trials] == [0, 1, 2]
    for trial in trials:
        assert trial.user_attrs["hyperparameters"] == best.user_attrs["hyperparameters"]
        config = json.loads((Path(trial.user_attrs["run_dir"]) / "config.json").read_text())
        assert config["seed"] == trial.user_attrs["seed"] and config["model"]["lr"] == best.params["lr"]
    table, _ = export_trials(url, "seeds-wgan_gp")
    assert set(table["search"]) == {"seeds"} and list(table["seed"]) == [0, 1, 2]
    assert table["param_lr"].nunique() == 1
    bad = sweep_config(url, tmp_path / "runs", "experiment=seeds", "source_study=src-${model.name}",
                       "train.batch_size=32", name="seeds2-${model.name}")
    with pytest.raises(ConfigError, match=r"must train as 'src-wgan_gp' did .*\n  train\.batch_size: stored 64, "
                                          r"requested 32"):
        build_plans(bad, None)
