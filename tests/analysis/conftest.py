"""Small synthetic studies and one report built from them, shared by the analysis tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from measure_artefacts import write_measure_artefacts, write_triangles_artefact
from synthetic_studies import seed_study, tables_of, wide_search, with_gan_train_test

from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.load import StudyTables
from gan_study.analysis.scores import BudgetOptions
from gan_study.study.train.run_folder import RunFolder

SMALL_MODELS = ("ns_gan", "wgan_gp", "hinge_gan")  # hinge_gan: a loss the analysis has never heard of


@pytest.fixture(scope="session")
def suite(request):
    """The suite's tests/conftest.py (its `unavailable`, `compose`), from pytest's registry of conftest plugins:
    `import conftest` would get whichever conftest.py was imported last."""
    return request.config.pluginmanager.get_plugin(str(Path(__file__).resolve().parents[1] / "conftest.py"))


@pytest.fixture(scope="session")
def sanity_draws() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-draw tables as gan-fid-experiments writes them (bias-variance, mode-dropping)."""
    rng = np.random.default_rng(0)
    bias = pd.DataFrame([{"dataset": d, "encoder": "inception", "n": 10000, "draw": i, "fid": m + 0.02 * rng.normal()}
                         for d, m in (("mnist", 1.25), ("cifar10", 5.19)) for i in range(6)])
    modes = pd.DataFrame([{"dataset": "cifar10", "encoder": "inception", "n": 10000, "k": k, "repeat": r,
                           "fid": 20.0 * (10 - k) + r, "is": 9.0 - 0.01 * k} for k in range(1, 11) for r in range(3)])
    return bias, modes


def with_sample_grids(tables: StudyTables, root: Path) -> StudyTables:
    """Each trial's run folder holds a sample grid (grey level = trial number / 40) and the PRD / memorisation
    measures' artefacts (Triangles trials: also triangles_pr's), as a trained run's does."""
    run_dirs = []
    for trial in tables.trials.itertuples(index=False):
        folder = RunFolder(root / trial.study / str(trial.trial))
        folder.samples.mkdir(parents=True, exist_ok=True)
        folder.save_samples(torch.full((4, 1, 8, 8), trial.trial / 40), step=trial.steps)
        write_measure_artefacts(folder.root, shift=trial.trial / 10)
        if trial.dataset == "triangles":
            write_triangles_artefact(folder.root, shift=trial.trial / 10)
        run_dirs.append(str(folder.root))
    return StudyTables(tables.trials.assign(run_dir=run_dirs), tables.evaluations, tables.sources)


def with_generators(tables: StudyTables, compose) -> None:
    """The first completed wide-search trial of each data set keeps an (untrained) generator, as a finished run does:
    a conditional one on MNIST, an unconditional one on Triangles (the latent space figures)."""
    from gan_study.study.config import validate
    from gan_study.study.train.checkpoint import save_generator
    from gan_study.study.train.loss import build_loss

    trials = tables.trials[(tables.trials["search"] == "wide") & (tables.trials["status"] == "completed")]
    for dataset, extra in (("mnist", ["conditional.enabled=true"]), ("triangles", [])):
        trial = trials[trials["dataset"] == dataset].iloc[0]
        cfg = validate(compose(["train=tiny", "eval=none", "model=ns_gan", f"dataset={dataset}", *extra]),
                       check_files=False)
        torch.manual_seed(0)
        nets = build_loss(cfg).build_networks(tuple(cfg.dataset.image_shape), cfg.train.z_dim, True, "lrelu")
        save_generator(Path(trial["run_dir"]) / "generators", 6, nets.generator.state_dict(), cfg.to_dict())


@pytest.fixture(scope="session")
def small_inputs(sanity_draws, tmp_path_factory, suite) -> ReportInputs:
    """Wide search on MNIST (with GAN-train / GAN-test) + Triangles, a narrow search, a seed study, sanity draws;
    3 models, few trials, each with a sample grid in its run folder; WGAN's Adam and RMSProp searches (5 trials each)."""
    tables = tables_of(with_gan_train_test(wide_search("wide_small", ("mnist", "triangles"), n=12, models=SMALL_MODELS,
                                                       seed=2)),
                       wide_search("narrow_small", ("mnist",), n=8, models=SMALL_MODELS, search="narrow", seed=3),
                       seed_study("seeds_small", ("mnist",), n_seeds=4, models=SMALL_MODELS),
                       *(wide_search(f"mnist-wide-wgan-{optimizer}", ("mnist",), n=5, models=("wgan",),
                                     search=f"wide_{optimizer}", seed=seed)  # experiment=paper_optimizer
                         for seed, optimizer in ((4, "adam"), (5, "rmsprop"))))
    tables = with_sample_grids(tables, tmp_path_factory.mktemp("runs"))
    with_generators(tables, suite.compose)
    options = ReportOptions(budget=BudgetOptions(resamples=300))
    encoders = pd.DataFrame({"generator": [f"mnist-wide-ns_gan/{i}" for i in range(5)],
                             "fid_inception": [12.0, 30.0, 18.0, 55.0, 24.0], "fid_vgg16_fc7": [1.1, 2.9, 2.0, 4.8, 1.9]})
    return ReportInputs(tables, options, bias_variance=sanity_draws[0], mode_dropping=sanity_draws[1],
                        split_sensitivity=sanity_draws[0].assign(fid=sanity_draws[0]["fid"] + 0.1),
                        encoder_sensitivity=encoders,
                        augmentation=pd.DataFrame({"dataset": "mnist", "run": "7", "n_real": 1000,
                                                   "ratio": [0.0, 0.5, 1.0, 2.0], "accuracy": [0.9, 0.92, 0.93, 0.91]}),
                        tsne=pd.DataFrame({"dataset": "mnist", "run": "7", "source": ["real", "generated"] * 10,
                                           "label": np.arange(20) % 10, "x": np.arange(20.0), "y": np.arange(20.0) ** 0.5}))


@pytest.fixture(scope="session")
def built_report(small_inputs, tmp_path_factory):
    """The report of `small_inputs` with every registered figure, built once for the page and browser tests."""
    from gan_study.analysis.report import build_report

    return build_report(small_inputs, tmp_path_factory.mktemp("report"), report_config="metric: fid\n")
