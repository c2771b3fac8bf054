"""launcher=slurm config validation, the scheduler-output parsing and when the driver exits: no cluster needed."""
from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from gan_study.launch.registry import build_executor
from gan_study.launch.driver import Sweep
from gan_study.launch.sweep_plans import build_plans
from gan_study.launch.sweep_settings import SweepSettings
from gan_study.launch.slurm import SlurmExecutor, SlurmSettings, parse_job_states
from gan_study.study.config import ConfigError
from tests.conftest import compose
from tests.launch.slurm_testkit import slurm_config, slurm_settings


def test_the_yaml_validates_with_its_documented_defaults():
    settings = slurm_settings()
    assert (settings.timeout_min, settings.gpus_per_node, settings.cpus_per_task, settings.mem_gb) == (240, 1, 4, 16.0)
    assert (settings.trials_per_gpu, settings.array_parallelism, settings.max_array_size) == (1, 256, None)
    assert (settings.partition, settings.account, settings.qos, settings.constraint) == (None, None, None, None)
    assert settings.sbatch_extra == {} and settings.setup == ()


@pytest.mark.parametrize("key, value, allowed", [
    ("timeout_min", 0, "integer >= 1"),
    ("gpus_per_node", -1, "integer >= 0"),
    ("cpus_per_task", 1.5, "integer >= 1"),
    ("trials_per_gpu", 0, "integer >= 1"),
    ("array_parallelism", True, "integer >= 1"),
    ("max_array_size", 0, "MaxArraySize"),
    ("max_requeues", -2, "integer >= 0"),
    ("mem_gb", -4, "positive number of GB"),
    ("partition", "", "non-empty string"),
    ("account", 7, "non-empty string"),
    ("job_name", None, "non-empty string"),
    ("sbatch_extra", {"mail-type": ["END"]}, "sbatch flag -> value"),
    ("setup", "module load cuda", "list of shell lines"),
    ("signal_delay_s", 300, "fewer seconds than the time limit (240 s)"),
])
def test_bad_values_name_the_field_the_value_and_what_is_allowed(key, value, allowed):
    overrides = {key: value, "timeout_min": 4} if key == "signal_delay_s" else {key: value}
    with pytest.raises(ConfigError) as error:
        slurm_settings(**overrides)
    message = str(error.value)
    assert f"launcher.{key} = {value!r}" in message and allowed in message


def test_unknown_and_missing_keys_are_rejected_by_name():
    with pytest.raises(ConfigError, match=r"launcher\.partiton = 'gpu'.*known key"):
        SlurmSettings.from_config({**slurm_config(), "partiton": "gpu"})
    config = slurm_config()
    del config["qos"]
    with pytest.raises(ConfigError, match=r"launcher\.qos = '<missing>'"):
        SlurmSettings.from_config(config)


def test_every_configured_resource_reaches_submitit():
    settings = slurm_settings(partition="gpu", account="ml", qos="high", constraint="a100", timeout_min=90,
                              gpus_per_node=2, cpus_per_task=8, mem_gb=30, array_parallelism=16,
                              signal_delay_s=60, job_name="paper", sbatch_extra={"mail-type": "END"},
                              setup=["module load cuda"])
    assert settings.submitit_parameters() == {
        "name": "paper", "timeout_min": 90, "cpus_per_task": 8, "tasks_per_node": 1, "nodes": 1,
        "gpus_per_node": 2, "mem_gb": 30.0, "slurm_partition": "gpu", "slurm_account": "ml",
        "slurm_qos": "high", "slurm_constraint": "a100", "slurm_array_parallelism": 16,
        "slurm_signal_delay_s": 60, "slurm_setup": ["module load cuda"],
        "slurm_additional_parameters": {"mail-type": "END"}}


def test_cpu_only_and_default_memory_request_nothing():
    params = slurm_settings(gpus_per_node=0, mem_gb=None).submitit_parameters()
    assert "gpus_per_node" not in params and "mem_gb" not in params and "slurm_partition" not in params


@pytest.mark.parametrize("cpus, k, threads", [(4, 1, 4), (4, 2, 2), (4, 8, 1), (6, 4, 1), (16, 4, 4)])
def test_packed_trials_split_the_cpus(cpus, k, threads):
    assert slurm_settings(cpus_per_task=cpus, trials_per_gpu=k).threads_per_trial == threads


def test_scheduler_lines_map_every_array_task_to_its_state():
    # the shapes sacct -X -n -P -o JobID,State prints (Slurm 22.05): single jobs, array tasks, a pending
    # array range with its throttle, a list, and a cancelled job with the uid of who cancelled it
    text = "\n".join(["101|COMPLETED", "102_0|RUNNING", "102_1|CANCELLED by 0", "102_[2-4%2]|PENDING",
                      "103_[0,5-6]|PENDING", "104|OUT_OF_MEMORY", ""])
    assert parse_job_states(text) == {
        "101": "COMPLETED", "102_0": "RUNNING", "102_1": "CANCELLED", "102_2": "PENDING", "102_3": "PENDING",
        "102_4": "PENDING", "103_0": "PENDING", "103_5": "PENDING", "103_6": "PENDING", "104": "OUT_OF_MEMORY"}


def test_the_registry_builds_it_from_the_launcher_group(tmp_path):
    executor = build_executor(slurm_config(partition="gpu", trials_per_gpu=4), tmp_path)
    assert isinstance(executor, SlurmExecutor) and executor.settings == slurm_settings(partition="gpu",
                                                                                       trials_per_gpu=4)


@pytest.mark.parametrize("launcher, overrides, exits", [
    ("slurm", [], True),
    ("slurm", ["follow=true"], False),
    ("slurm", ["sampler.name=tpe"], False),  # tpe asks each trial from the results so far: the driver stays
    ("local", [], False),  # the trials are the driver's children
])
def test_the_driver_exits_once_queued_only_for_detached_jobs_it_need_not_follow(launcher, overrides, exits, tmp_path):
    cfg = compose(["model=ns_gan", "dataset=triangles", "eval=none", f"launcher={launcher}", "n_trials=2",
                   "+eval.metrics.triangles_pr={n:8,recall:false,bank_grid:4,steps:5,batch_size:8}",
                   "objective.metric=precision_median_distance", f"storage.url=journal:{tmp_path / 'gan.journal'}",
                   *overrides], config_name="sweep")
    executor = build_executor(OmegaConf.to_container(cfg.launcher, resolve=True), tmp_path)
    sweep = Sweep(build_plans(cfg, None), executor, SweepSettings.from_config(cfg), cfg.n_trials)
    assert sweep.exits_once_submitted is exits


def test_an_adaptive_sampler_keeps_every_array_slot_busy(tmp_path):
    """TPE on SLURM: array_parallelism × trials_per_gpu trials proposed and in flight at once, not one."""
    cfg = compose(["model=ns_gan", "dataset=triangles", "eval=none", "launcher=slurm", "n_trials=10",
                   "launcher.array_parallelism=2", "launcher.trials_per_gpu=2", "sampler.name=tpe",
                   "+eval.metrics.triangles_pr={n:8,recall:false,bank_grid:4,steps:5,batch_size:8}",
                   "objective.metric=precision_median_distance", f"storage.url=journal:{tmp_path / 'gan.journal'}"],
                  config_name="sweep")
    executor = build_executor(OmegaConf.to_container(cfg.launcher, resolve=True), tmp_path)
    assert executor.concurrency == 4
    sweep = Sweep(build_plans(cfg, None), executor, SweepSettings.from_config(cfg), cfg.n_trials)
    sweep.prepare()  # a new study: no job to ask the scheduler about
    sweep.refill()
    assert [trial.number for _, trial in sweep.queue] == [0, 1, 2, 3]  # the defaults' trial + 3 TPE proposals
    # each proposal is a new trial: the queued defaults' trial is neither handed out again nor overwritten
    stored = sweep._trials(sweep.plans[0])
    assert [t.user_attrs["list_index"] for t in stored] == [0, 1, 2, 3]
    assert stored[0].user_attrs["is_default"] and not any(t.user_attrs["is_default"] for t in stored[1:])
    assert len({t.params["lr"] for t in stored[1:]}) == 3
