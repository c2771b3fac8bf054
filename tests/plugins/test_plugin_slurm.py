"""The plugin loss swept on the real single-node SLURM from the user's repository: the array tasks run the
repository environment's Python, import the plugin by its entry point, and report finite scores; gan-report
puts the new loss beside the built-in."""
from __future__ import annotations

import math

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from gan_study.study.search.storage import open_storage
from tests.plugins.conftest import CHEAP_EVAL

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def test_a_plugin_loss_sweeps_on_slurm_beside_a_built_in_and_is_reported(plugin_repo, slurm_cluster, tmp_path):
    journal = tmp_path / "gan.journal"
    plugin_repo.run("gan-sweep", plugin_repo.searchpath, "models=[hinge,ns_gan]", "dataset=triangles", "train=tiny",
                    "train.train_size=256", *CHEAP_EVAL, "n_trials=2", "launcher=slurm",
                    f"launcher.partition={slurm_cluster}", "launcher.cpus_per_task=1", "launcher.mem_gb=2",
                    "launcher.timeout_min=10", "launcher.signal_delay_s=60", f"storage.url=journal:{journal}",
                    f"runs_root={tmp_path / 'runs'}", "follow=true", "poll_s=1", "heartbeat.interval_s=2",
                    "heartbeat.grace_s=120", "progress_every_s=0", f"hydra.run.dir={tmp_path / 'hydra'}")
    storage = open_storage(f"journal:{journal}")
    for model in ("hinge", "ns_gan"):
        trials = optuna.load_study(study_name=f"triangles-wide-{model}", storage=storage).get_trials(deepcopy=False)
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
        assert all(t.user_attrs["status"] == "completed" and math.isfinite(t.value) for t in trials)
        assert all(t.user_attrs["job_id"].split("_")[0].isdigit() for t in trials)  # run by SLURM array tasks

    plugin_repo.run("gan-report", f"storage.url=journal:{journal}", "study=[triangles-wide-hinge,triangles-wide-ns_gan]",
                    "metric=precision_median_distance", f"out={tmp_path / 'report'}")
    summary = pd.read_csv(tmp_path / "report" / "tables" / "search_summary.csv").set_index("model")
    assert summary.loc["hinge", "completed"] == 2 and math.isfinite(summary.loc["hinge", "best"])
