"""A new loss added, swept and reported from the user's own repository, through the real CLIs, as
docs/adding_a_loss.md walks through it: gan-train, gan-sweep models=[hinge,ns_gan] (local processes), gan-report.

The repository has its own `models/` and `study/` packages and its own `conf/` folder; every command runs from
inside it, with the plugin pip-installed and its folder on `hydra.searchpath` (nothing of gan-study is edited).
"""
from __future__ import annotations

import json
import math
import subprocess

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from gan_study.study.search.storage import open_storage
from tests.plugins.conftest import CHEAP_EVAL

pytestmark = pytest.mark.slow

TINY = ["dataset=triangles", "train=tiny", "train.train_size=256"]
SWEEP = [*TINY, *CHEAP_EVAL, "n_trials=2", "storage.url=studies.journal", "launcher=local", "launcher.max_parallel=2",
         "launcher.threads_per_trial=1", "poll_s=0.5", "progress_every_s=0"]


def test_the_users_own_packages_keep_their_names_next_to_gan_study(plugin_repo):
    code = "import models, study, gan_study.models; print(models.WHOSE, '|', study.WHOSE, '|', gan_study.models.__name__)"
    proc = subprocess.run([str(plugin_repo.bin / "python"), "-c", code], cwd=plugin_repo.path, capture_output=True,
                          text=True, timeout=300)
    assert proc.stdout.strip() == "the user's own models package | the user's own study package | gan_study.models"


def test_train_sweep_and_report_a_plugin_loss_beside_a_built_in(plugin_repo):
    repo = plugin_repo.path
    trained = plugin_repo.run("gan-train", plugin_repo.searchpath, "model=hinge", *TINY, "eval=none",
                              "model.loss_params.margin=2.0", "run_dir=runs/hinge_once")
    assert trained.stdout.splitlines()[-1].startswith("completed: runs/hinge_once after 6 steps")
    record = json.loads((repo / "runs" / "hinge_once" / "record.json").read_text())
    assert (record["status"], record["model"]) == ("completed", "hinge")
    assert "margin: 2.0" in (repo / "runs" / "hinge_once" / "config.yaml").read_text()

    plugin_repo.run("gan-sweep", plugin_repo.searchpath, "models=[hinge,ns_gan]", *SWEEP)
    storage = open_storage(f"journal:{repo / 'studies.journal'}")
    best = {}
    for model in ("hinge", "ns_gan"):
        study = optuna.load_study(study_name=f"triangles-wide-{model}", storage=storage)
        trials = study.get_trials(deepcopy=False)
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
        assert all(t.user_attrs["status"] == "completed" and math.isfinite(t.value) for t in trials)
        best[model] = min(t.value for t in trials)
    hinge_trials = optuna.load_study(study_name="triangles-wide-hinge", storage=storage).get_trials(deepcopy=False)
    drawn = hinge_trials[1].user_attrs["hyperparameters"]  # the plugin's own space, from its conf/ folder
    assert 0.1 <= drawn["margin"] <= 10.0 and hinge_trials[0].user_attrs["hyperparameters"]["margin"] == 1.0

    seeds = plugin_repo.run("gan-sweep", plugin_repo.searchpath, "experiment=paper_seeds", "models=[hinge]", *SWEEP,
                            "n_seeds=2", "--dry-run").stdout  # phase 3: the best hinge configuration, two seeds
    best_hinge = min(hinge_trials, key=lambda t: (t.value, t.number)).user_attrs["hyperparameters"]
    assert "study triangles-seeds-hinge: model=hinge" in seeds and f"margin={best_hinge['margin']:.4g}" in seeds

    report = plugin_repo.run("gan-report", "storage.url=studies.journal",
                             "study=[triangles-wide-hinge,triangles-wide-ns_gan]", "metric=precision_median_distance",
                             "out=report")
    summary = pd.read_csv(repo / "report" / "tables" / "search_summary.csv").set_index("model")
    for model, value in best.items():
        assert summary.loc[model, "trials"] == 2 and summary.loc[model, "best"] == pytest.approx(value)
    lines = report.stdout.splitlines()
    assert any(line.startswith("hinge ") for line in lines) and any(line.startswith("NS GAN ") for line in lines)
    assert "hinge" in (repo / "report" / "report.html").read_text()


def test_presets_and_both_spaces_take_the_plugin(plugin_repo):
    wide = plugin_repo.run("gan-sweep", plugin_repo.searchpath, "experiment=paper_wide", "models=[hinge,ns_gan]",
                           *SWEEP, "n_trials=3", "--dry-run").stdout
    assert "study triangles-wide-hinge: model=hinge" in wide and "study triangles-wide-ns_gan: model=ns_gan" in wide
    narrow = plugin_repo.run("gan-sweep", plugin_repo.searchpath, "model=hinge", "search=narrow", *SWEEP,
                             "--dry-run").stdout
    assert "study triangles-narrow-hinge" in narrow and "discriminator_batchnorm=" in narrow
    every = plugin_repo.run("gan-sweep", plugin_repo.searchpath, "models=all", *SWEEP, "--dry-run").stdout
    assert "study triangles-wide-hinge" in every and "study triangles-wide-wgan_gp" in every


def test_a_missing_space_names_the_file_to_add_in_the_users_folder(plugin_repo, tmp_path):
    conf = tmp_path / "conf_without_narrow"
    (conf / "model").mkdir(parents=True)
    (conf / "model" / "hinge.yaml").write_text((plugin_repo.path / "conf" / "model" / "hinge.yaml").read_text())
    proc = plugin_repo.run("gan-sweep", f"hydra.searchpath=[file://{conf}]", "model=hinge", "search=narrow", *SWEEP,
                           "--dry-run", expect=2)
    assert "search = 'narrow' has no space for model 'hinge'" in proc.stderr
    assert f"add {conf}/search/narrow/hinge.yaml, for example:\ndefaults:\n  - common" in proc.stderr
