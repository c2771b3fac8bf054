"""`gan-sweep status`, `logs` and `cancel`: look at studies and their jobs from anywhere, or end the jobs.

    gan-sweep status study='fashion_mnist-wide-*' [study=PATTERN ...] [storage.url=...]
    gan-sweep logs study=fashion_mnist-wide-wgan_gp trial=17 [tail=50] [storage.url=...]
    gan-sweep cancel study='fashion_mnist-wide-*' [study=PATTERN ...] [storage.url=...]

Every word is `key=value`: the command's own keys, or an override of the sweep config's `storage`, `launcher`
or `runs_root`, composed from conf/sweep.yaml exactly as for the sweep, so the same `storage=...` /
`storage.url=...` words find the same studies. A bad word exits 2 before any storage is opened.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from gan_study.launch.base import Executor
from gan_study.launch.config_tree import compose_config
from gan_study.launch.cancel import cancel_studies, format_cancelled
from gan_study.launch.logs import trial_logs
from gan_study.launch.reconcile import submitted_jobs
from gan_study.launch.registry import build_executor
from gan_study.models.checks import check, refuse
from gan_study.launch.status import format_status, matching_studies, status_counts
from gan_study.study.config import ConfigError
from gan_study.study.search.credentials import for_workers
from gan_study.study.search.storage import absolute_url, storage_file
from gan_study.study.search.study import load_study

OWN_KEYS = {"status": ("study",), "logs": ("study", "trial", "tail"), "cancel": ("study",)}
"""Each command's own keys; `study` may repeat for `status` (every pattern is shown together)."""

CONFIG_KEYS = ("storage", "launcher", "runs_root")
"""Sweep config groups and keys these commands take as overrides (where the studies and their jobs are)."""

COMMANDS = tuple(OWN_KEYS)

USAGE = {"status": "gan-sweep status study=PATTERN [study=PATTERN ...]",
         "logs": "gan-sweep logs study=NAME trial=N [tail=LINES]",
         "cancel": "gan-sweep cancel study=PATTERN [study=PATTERN ...]"}


@dataclass(frozen=True)
class Words:
    """A command line, checked: study patterns (or the one study of `logs`), trial, tail, config overrides."""

    studies: list[str]
    trial: int | None
    tail: int | None
    overrides: list[str]


def parse_words(command: str, words: Sequence[str]) -> Words:
    """`key=value` words, each checked: a `ConfigError` names the bad one and what is allowed."""
    own: dict[str, list[str]] = {}
    overrides = []
    allowed = (f"{USAGE[command]}, plus overrides of {', '.join(CONFIG_KEYS)} as for the sweep "
               "(storage=postgres, storage.url=studies/x.journal, launcher=slurm, runs_root=DIR)")
    for word in words:
        key, has_value, value = word.partition("=")
        if has_value and key in OWN_KEYS[command]:
            own.setdefault(key, []).append(value)
        elif has_value and key.lstrip("+~").split(".")[0] in CONFIG_KEYS:
            overrides.append(word)
        else:
            raise ConfigError(f"{word!r} is not allowed: {allowed}")
    if not own.get("study"):
        refuse("study", "<missing>", f"{USAGE[command]} (e.g. study='mnist-wide-*')")
    if command == "logs" and len(own["study"]) > 1:
        refuse("study", own["study"], "logs takes one study name")
    return Words(own["study"], _integer(own, "trial", minimum=0, required=command == "logs"),
                 _integer(own, "tail", minimum=1, required=False), overrides)


def _integer(own: dict[str, list[str]], key: str, minimum: int, required: bool) -> int | None:
    values = own.get(key)
    if not values:
        if required:
            refuse(key, "<missing>", f"an integer >= {minimum}")
        return None
    check(len(values) == 1 and values[0].isdigit() and int(values[0]) >= minimum, key,
          values if len(values) > 1 else values[0], f"one integer >= {minimum}")
    return int(values[0])


def storage_url(cfg: DictConfig) -> str:
    """The sweep's storage, made absolute; a storage file that does not exist is refused, never created."""
    url = for_workers(absolute_url(str(cfg.storage.url)))
    path = storage_file(url)
    check(path is None or path.exists(), "storage.url", url,
          "no such file; give the storage the sweep used (storage=..., storage.url=...)")
    return url


def scheduler_executor(url: str, words: Words, cfg: DictConfig) -> Executor | None:
    """The SLURM executor when the studies recorded SLURM submissions (to tell lost trials), else None."""
    if not any(submitted_jobs(load_study(url, name)) for name in matching_studies(url, words.studies)):
        return None
    if cfg.launcher.name != "slurm":  # only the scheduler's answers are needed, whatever launcher= said
        others = [o for o in words.overrides if not o.lstrip("+~").startswith("launcher")]
        cfg = compose_config("sweep", [*others, "launcher=slurm"])
    return build_executor(OmegaConf.to_container(cfg.launcher, resolve=True), Path(cfg.runs_root).absolute())


def status(words: Words) -> str:
    """The per-model table of every study matching the patterns (with `lost` where SLURM ran them)."""
    cfg = compose_config("sweep", words.overrides)
    url = storage_url(cfg)
    return format_status(status_counts(url, words.studies, scheduler_executor(url, words, cfg))) + "\n"


def logs(words: Words) -> str:
    """The trial's stdout, stderr and its job's own logs."""
    url = storage_url(compose_config("sweep", words.overrides))
    return trial_logs(url, words.studies[0], words.trial, words.tail)


def cancel(words: Words) -> str:
    """Cancel the studies' queued and running jobs; their trials wait again for the next sweep command."""
    cfg = compose_config("sweep", words.overrides)
    url = storage_url(cfg)
    executor = scheduler_executor(url, words, cfg)
    if executor is None:
        return ("no scheduler jobs recorded for these studies: launcher=local and launcher=debug trials run in "
                "their gan-sweep process, which Ctrl-C stops (the trials wait again)\n")
    return format_cancelled(cancel_studies(url, words.studies, executor))


def run_command(command: str, words: Sequence[str]) -> int:
    """Print the command's output; exit status 2 (and the reason on stderr) for a bad word or config."""
    try:
        parsed = parse_words(command, words)
        text = {"status": status, "logs": logs, "cancel": cancel}[command](parsed)
    except (ConfigError, HydraException) as error:
        print(f"gan-sweep {command}: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0
