"""Every experiment preset composes, validates every trial's config, and has the paper's run counts."""
from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from gan_study.launch.registry import executor_class
from gan_study.launch.sweep_plans import build_plans, model_names
from gan_study.launch.sweep_settings import SweepSettings
from gan_study.study.config import ConfigError, validate
from gan_study.study.search.storage import storage_kind
from tests.conftest import compose

@pytest.fixture(autouse=True)
def _paper_presets_evaluate_fid(inception_weights_present):
    """The paper presets evaluate FID, whose validation checks that the Inception weights file exists."""


ALL_MODELS = {"mm_gan", "ns_gan", "wgan", "wgan_gp", "lsgan", "dragan", "began", "vae"}


def sweep_config(tmp_path, *overrides: str):
    storage = f"storage.url=journal:{tmp_path / 'studies.journal'}"
    cfg = compose([*overrides, storage, f"runs_root={tmp_path / 'runs'}"], config_name="sweep")
    return cfg, (lambda model: compose([*overrides, storage, f"runs_root={tmp_path / 'runs'}", f"model={model}"],
                                       config_name="sweep"))


@pytest.mark.parametrize("preset, per_model, space, dataset",
                         [("paper_wide", 100, "wide", "mnist"), ("paper_narrow", 50, "narrow", "cifar10")])
def test_search_presets_have_the_papers_run_counts(preset, per_model, space, dataset, tmp_path):
    cfg, compose_model = sweep_config(tmp_path, f"experiment={preset}", f"dataset={dataset}")
    plans = build_plans(cfg, compose_model)  # validates every trial's training config
    assert {plan.name for plan in plans} == {f"{dataset}-{space}-{model}" for model in ALL_MODELS}
    assert sum(len(plan.trials) for plan in plans) == 8 * per_model  # 800 wide, 400 narrow per data set
    assert all(len(plan.trials) == per_model for plan in plans)
    first = plans[0].config(plans[0].trials[0].values, plans[0].trials[0].seed)
    assert first["train"]["batch_size"] == 64 and first["eval"]["metrics"] == {"fid": {}}
    assert first["seed"] == 0


def test_seed_preset_reruns_every_model_fifty_times_from_its_wide_study(tmp_path):
    cfg, compose_model = sweep_config(tmp_path, "experiment=paper_seeds", "dataset=fashion_mnist")
    assert set(model_names(cfg)) == ALL_MODELS and cfg.n_seeds == 50 and cfg.kind == "seeds"
    assert cfg.source_study == "fashion_mnist-wide-ns_gan"
    with pytest.raises(ConfigError, match="fashion_mnist-wide-ns_gan"):
        build_plans(cfg, compose_model)  # the wide study must exist first: said before any compute


def test_demo_preset_is_a_small_wide_triangles_study_on_the_local_launcher(tmp_path):
    cfg, compose_model = sweep_config(tmp_path, "experiment=demo")
    plans = build_plans(cfg, compose_model)
    assert cfg.launcher.name == "local" and cfg.dataset.name == "triangles" and cfg.search.name == "wide"
    assert len(plans) == 3 and all(len(plan.trials) == 3 for plan in plans)
    assert cfg.objective.metric == "precision_median_distance" and "fid" not in cfg.eval.metrics


PRESETS = sorted(path.stem for path in (Path(__file__).resolve().parents[2] / "conf" / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("storage", ["journal", "sqlite", "postgres"])
@pytest.mark.parametrize("launcher", ["debug", "local", "slurm"])
@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_with_every_launcher_and_storage(preset, launcher, storage):
    """A preset sets what the study is, never where it lives or how it runs: the chosen groups stay intact."""
    cfg = compose([f"experiment={preset}", f"launcher={launcher}", f"storage={storage}"], config_name="sweep")
    launcher_cfg = OmegaConf.to_container(cfg.launcher, resolve=True)
    assert launcher_cfg == OmegaConf.to_container(compose([f"launcher={launcher}"], config_name="sweep").launcher,
                                                  resolve=True)
    assert cfg.storage.url == compose([f"storage={storage}"], config_name="sweep").storage.url
    assert storage_kind(str(cfg.storage.url)) == {"journal": "journal", "sqlite": "sqlite",
                                                   "postgres": "postgresql"}[storage]
    executor_class(launcher).from_config(launcher_cfg, Path("runs"))  # the launcher's own validation
    SweepSettings.from_config(cfg)
    validate(cfg)  # the training config every trial starts from
