"""Reading studies: Contract 6 tables from Parquet/CSV, every trial kept and labelled, clear errors."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from synthetic_studies import evaluation_rows, seed_study, trial_rows, wide_search

from gan_study.analysis.load import load, read_export, tidy_trials
from gan_study.analysis.scores import budget_trials, metric_direction, objective_metric, score_spec, trial_scores
from gan_study.analysis.style import metric_label

STATUSES = ["completed", "diverged", "failed", "running", "waiting", "completed"]


@pytest.fixture
def mixed_trials() -> pd.DataFrame:
    return trial_rows("mixed", "ns_gan", "mnist", "wide", [10.0, 12.0, np.nan, np.nan, np.nan, 8.0], STATUSES,
                      params={"lr": [1e-4, 2e-4, 3e-4, 4e-4, 5e-4, 6e-4]})


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_export_folder_is_read_with_every_trial_labelled(tmp_path, mixed_trials, suffix):
    evaluations = evaluation_rows(mixed_trials)
    write = {"parquet": pd.DataFrame.to_parquet, "csv": lambda f, p: f.to_csv(p, index=False)}[suffix]
    write(mixed_trials, tmp_path / f"trials.{suffix}")
    write(evaluations, tmp_path / f"evaluations.{suffix}")
    tables = read_export(tmp_path)
    trials = tables.trials.sort_values("trial")
    assert trials["status"].tolist() == STATUSES  # failed, running, waiting and diverged all kept
    assert trials["measured"].tolist() == [True, True, False, False, False, True]
    assert trials.loc[trials["status"] == "diverged", "reason"].iloc[0] == "loss_d is nan at step 5000"
    assert trials["is_default"].dtype == bool and trials["is_default"].tolist() == [True] + [False] * 5
    assert len(tables.evaluations) == len(evaluations)
    assert tables.metrics == ["fid"] and tables.params == ["lr"] and tables.studies == ["mixed"]
    assert sorted(tables.sources) == sorted(str(tmp_path / f"{n}.{suffix}") for n in ("evaluations", "trials"))


def test_scores_make_diverged_worst_and_unmeasured_absent(mixed_trials):
    trials = tidy_trials(mixed_trials)
    fid = score_spec(trials, "fid")
    assert trial_scores(trials, fid).tolist()[:2] == [10.0, np.inf]
    assert trial_scores(trials, fid).isna().tolist() == [False, False, True, True, True, False]
    f1_trials = tidy_trials(trial_rows("f1", "ns_gan", "triangles", "wide", [0.5, 0.7], ["completed", "diverged"],
                                       metric="f1", direction="maximize"))
    f1 = score_spec(f1_trials, "f1")
    assert not f1.minimize and trial_scores(f1_trials, f1).tolist() == [0.5, -np.inf]
    assert budget_trials(trials, fid)["trial"].tolist() == [0, 1, 5]


def test_directions_come_from_the_study_then_known_metrics_then_overrides(mixed_trials):
    trials = tidy_trials(mixed_trials.assign(direction="StudyDirection.MAXIMIZE"))
    assert metric_direction(trials, "fid") == "maximize"  # the study's own word wins over the known table
    assert metric_direction(trials, "precision") == "maximize"
    assert metric_direction(trials, "my_score", {"my_score": "minimize"}) == "minimize"
    with pytest.raises(ValueError, match="direction of metric 'my_score' is None.*directions.my_score"):
        metric_direction(trials, "my_score")


def test_seed_studies_are_recognised_from_their_data():
    seeds, _ = seed_study("seeds", ("mnist",), n_seeds=3, models=("ns_gan",))
    search, _ = wide_search("wide", ("mnist",), n=5, models=("ns_gan",))
    named = trial_rows("named", "ns_gan", "mnist", "seeds", [1.0])
    assert tidy_trials(seeds)["seed_study"].all()  # fixed hyperparameters, different seeds
    assert not tidy_trials(search)["seed_study"].any()
    assert tidy_trials(named)["seed_study"].all()  # search = "seeds" says so


def test_load_keeps_only_the_named_studies(tmp_path):
    first, _ = wide_search("first", ("mnist",), n=4, models=("ns_gan",))
    second, _ = wide_search("second", ("mnist",), n=4, models=("ns_gan",))
    pd.concat([first, second]).to_csv(tmp_path / "trials.csv", index=False)
    assert load(export=tmp_path / "trials.csv", study="second").studies == ["second"]
    with pytest.raises(ValueError, match=r"study = \['third'\]: not in the tables; available: \['first', 'second'\]"):
        load(export=tmp_path / "trials.csv", study=["third"])


@pytest.mark.parametrize("change, message", [
    (lambda t: t.drop(columns=["status", "reason"]), "neither a trial table"),
    (lambda t: t.drop(columns=["is_default"]), r"lacks the Contract 6 column\(s\) \['is_default'\]"),
    (lambda t: t.assign(status="exploded"), r"status \['exploded'\] unknown; allowed: \('completed'"),
    (lambda t: t.assign(trial=0), "study 'mixed' trial 0 appears more than once"),
    (lambda t: t.assign(is_default="maybe"), r"column 'is_default' holds \[\"'maybe'\"\]"),
])
def test_bad_tables_are_named(tmp_path, mixed_trials, change, message):
    change(mixed_trials).to_csv(tmp_path / "trials.csv", index=False)
    with pytest.raises(ValueError, match=message):
        read_export(tmp_path / "trials.csv")


def test_missing_inputs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_export(tmp_path / "nothing.parquet")
    with pytest.raises(FileNotFoundError, match="holds no .parquet or .csv table"):
        read_export(tmp_path)
    with pytest.raises(ValueError, match="needs study"):
        load(storage="sqlite:///x.db")


def test_reading_results_never_imports_torch(tmp_path, mixed_trials):
    """`analysis` reads tables and draws figures without the training stack (architecture: analysis → tables)."""
    mixed_trials.to_parquet(tmp_path / "trials.parquet")
    code = ("import sys, gan_study.analysis, gan_study.analysis.cli, gan_study.analysis.report\n"
            "from gan_study.analysis.load import load\n"
            f"load(export={str(tmp_path)!r})\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def optuna_study(tmp_path):
    """A real Optuna study in SQLite, its trials carrying Contract 5's attributes, run folders with metrics.csv."""
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    url, name = f"sqlite:///{tmp_path / 'study.db'}", "contract_wide"
    study = optuna.create_study(storage=url, study_name=name, direction="minimize")
    study.set_user_attr("gan_study", {"objective": {"metric": "fid", "reduce": "best", "direction": "minimize"}})
    outcomes = [("completed", TrialState.COMPLETE, 12.0), ("diverged", TrialState.COMPLETE, 30.0),
                ("failed", TrialState.FAIL, None), ("completed", TrialState.COMPLETE, 9.0)]
    for number, (status, state, fid) in enumerate(outcomes):
        run_dir = tmp_path / "runs" / str(number)
        run_dir.mkdir(parents=True)
        if fid is not None:
            (run_dir / "metrics.csv").write_text("step,epoch,images_seen,wall_time_s,loss_d,loss_g,fid\n"
                                                 f"100,1,6400,1.5,0.7,1.1,{fid * 2}\n200,2,12800,3.0,0.6,1.2,{fid}\n")
        attrs = {"model": "ns_gan", "dataset": "mnist", "search": "wide", "seed": 0, "status": status,
                 "reason": "loss_d is nan at step 150" if status == "diverged" else None, "run_dir": str(run_dir),
                 "is_default": number == 0, "default_outside_space": False, "steps": 200, "runtime_s": 3.0}
        if fid is not None:
            attrs |= {"best_fid": fid, "final_fid": fid}
        study.add_trial(create_trial(state=state, value=fid if state == TrialState.COMPLETE else None,
                                     params={"lr": 1e-4 * (number + 1)},
                                     distributions={"lr": FloatDistribution(1e-5, 1e-2, log=True)},
                                     user_attrs=attrs))
    study.enqueue_trial({"lr": 1e-3})  # waiting
    return url, name


def test_a_study_is_read_from_its_storage_and_from_its_export(optuna_study, tmp_path):
    from gan_study.study.search.results import export_trials, write_export

    url, name = optuna_study
    from_storage = load(storage=url, study=name)
    write_export(*export_trials(url, name), tmp_path / "export", name)  # Parquet and CSV of both tables
    from_export = load(export=tmp_path / "export")
    for tables in (from_storage, from_export):
        trials = tables.trials.sort_values("trial")
        assert trials["status"].tolist() == ["completed", "diverged", "failed", "completed", "waiting"]
        assert trials["measured"].tolist() == [True, True, False, True, False]
        spec = score_spec(trials, "fid")
        assert spec.minimize and trial_scores(trials, spec).tolist()[:2] == [12.0, np.inf]
        assert tables.evaluations.groupby("trial")["fid"].min().to_dict() == {0: 12.0, 1: 30.0, 3: 9.0}
    assert len(from_export.sources) == 2 and all(s.endswith(".parquet") for s in from_export.sources)


def test_the_objective_metric_names_the_report_metric_even_before_any_trial_finished():
    waiting = trial_rows("new", "ns_gan", "mnist", "wide", [np.nan] * 2, ["waiting", "running"])
    waiting = waiting.drop(columns=["best_fid", "final_fid"]).assign(objective_name="best_fid_domain_classifier")
    trials = tidy_trials(waiting)
    assert objective_metric(trials) == "fid_domain_classifier"
    spec = score_spec(trials, "fid_domain_classifier")  # the column exists, empty; an FID family metric
    assert spec.minimize and trial_scores(trials, spec).isna().all()
    assert metric_label("fid_domain_classifier") == "FID (domain classifier)" and metric_label("f1") == "F1"
