"""`launcher.batch`: how many waiting trials one worker trains together as one batched computation.

`off` (the default) runs one trial per process. `K` lets the driver hand one worker up to K waiting trials of one
study that share a group key (`study/train/batched.group_key`: the loss and its settings, n_disc, the architecture
switches, image shape, batch size, data); the worker trains them as one vmapped group
(`study/train/batched_run.py`), each trial with its own run folder, checkpoints and result. A trial that cannot
batch trains alone, in its own process, with a one-line log saying why. `auto` reads the mode measured fastest on
this device kind from `conf/launcher/batch_rates.yaml` (written by `benchmarks/batched.py`), and means off where
no measurement exists: a mode is never chosen from a guess.
"""
from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import Any, Callable, Hashable, Mapping, TypeVar

import yaml

from gan_study.models.checks import check, is_integer, is_number, refuse
from gan_study.study.search.task import TrialTask

log = logging.getLogger("gan_study.launch")

BATCH_RATES = Path(__file__).resolve().parents[1] / "conf" / "launcher" / "batch_rates.yaml"
ALLOWED = "off, auto, or an integer >= 1 (trials one worker trains as one batched computation)"

T = TypeVar("T")


def batch_setting(value: Any) -> int | str:
    """`launcher.batch` validated: 'auto', or the group size (1 for off)."""
    if value is False or value == "off":
        return 1
    if value == "auto":
        return "auto"
    check(is_integer(value) and value >= 1, "launcher.batch", value, ALLOWED)
    return int(value)


def measured_batch(kind: str, rates_path: Path = BATCH_RATES) -> int:
    """The group size measured fastest on device kind `kind` (1: processes are, or nothing was measured there)."""
    rates = load_rates(rates_path).get(kind)
    if rates is None:
        log.info("launcher.batch=auto: no measured rates for %s in %s: one trial per process", kind, rates_path)
        return 1
    batched = rates["batched"]
    best = max(batched, key=batched.get) if batched else 1
    if not batched or batched[best] < rates["processes"]:
        log.info("launcher.batch=auto: on %s processes are measured faster than any batched K (%.1f trials/h): "
                 "one trial per process", kind, rates["processes"])
        return 1
    log.info("launcher.batch=auto: on %s batched K=%d is measured fastest (%.1f trials/h, processes %.1f)", kind,
             best, batched[best], rates["processes"])
    return best


def load_rates(path: Path = BATCH_RATES) -> dict[str, dict[str, Any]]:
    """`devices:` of the rates table: kind -> {processes: trials/h, batched: {K: trials/h}}, checked."""
    if not path.exists():
        return {}
    devices = (yaml.safe_load(path.read_text()) or {}).get("devices") or {}
    check(isinstance(devices, Mapping), f"{path.name}: devices", devices, "a mapping of device kind -> rates")
    table = {}
    for kind, entry in devices.items():
        field = f"{path.name}: devices.{kind}"
        entry = entry if isinstance(entry, Mapping) else refuse(field, entry, "a mapping with trials_per_hour")
        rates = entry.get("trials_per_hour") or {}
        check(is_number(rates.get("processes")) and rates["processes"] > 0, f"{field}.trials_per_hour.processes",
              rates.get("processes"), "measured trials per hour, > 0")
        batched = rates.get("batched") or {}
        check(isinstance(batched, Mapping) and all(is_integer(k) and k >= 1 and is_number(v) and v >= 0
                                                   for k, v in batched.items()),
              f"{field}.trials_per_hour.batched", batched, "a mapping of K (>= 1) -> measured trials per hour")
        table[str(kind)] = {"processes": float(rates["processes"]), "batched": {int(k): float(v)
                                                                              for k, v in batched.items()}}
    return table


def local_device_kind(gpus: list[str]) -> str:
    """The device kind launcher=local trains on: `cuda:<GPU name>`, else `cpu:<torch's CPU kernels>` (AVX2...)."""
    import torch

    if gpus and torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    return f"cpu:{torch.backends.cpu.get_cpu_capability()}"


def unbatchable_reason(config: Mapping[str, Any]) -> str | None:
    """Why a trial's (validated) training config cannot join a batched group, or None when it can: the refusals of
    `study/train/batched.py` (its losses, optimisers and float32 step), asked before any trial is handed out."""
    from gan_study.study.train.batched import BATCHABLE_LOSSES, NOT_BATCHABLE, OPTIMIZERS

    name, train = config["model"]["name"], config["train"]
    if name not in BATCHABLE_LOSSES:
        return f"model.name = {name!r}: " + NOT_BATCHABLE.get(name, "not one of the losses checked to batch exactly")
    if train["optimizer"] not in OPTIMIZERS:
        return f"train.optimizer = {train['optimizer']!r}: the batched step has {', '.join(OPTIMIZERS)}"
    if train["precision"] != "fp32":
        return f"train.precision = {train['precision']!r}: the batched step has no autocast"
    return None


class TrialGrouper:
    """Forms groups of waiting trials for a worker: up to `size` of one study with equal group keys."""

    def __init__(self, size: int):
        self.size = size
        self._keys: dict[tuple[str, int], Hashable | None] = {}
        self._said: set[tuple[str, str]] = set()

    def key(self, task: TrialTask) -> Hashable | None:
        """The trial's group: (study, group_key), or None when it trains alone (said once per study and reason)."""
        name = (task.study_name, task.trial_number)
        if name not in self._keys:
            self._keys[name] = self._key(task)
        return self._keys[name]

    def _key(self, task: TrialTask) -> Hashable | None:
        reason = unbatchable_reason(task.config)
        if reason is not None:
            if (task.study_name, reason) not in self._said:
                self._said.add((task.study_name, reason))
                log.info("study %s: trials of %s train one per process (launcher.batch): %s", task.study_name,
                         task.config["model"]["name"], reason)
            return None
        from gan_study.study.config import validate
        from gan_study.study.train.batched import group_key

        return task.study_name, group_key(validate(task.config, check_files=False))

    def take(self, queue: deque[T], workers: int | None, task_of: Callable[[T], TrialTask]) -> list[list[T]]:
        """Pop at most `workers` groups (None: as many as the queue makes) off `queue`: each the first waiting item
        and up to size − 1 later ones of its group, in queue order; an item that cannot batch is a group of its own."""
        groups: list[list[T]] = []
        while queue and (workers is None or len(groups) < workers):
            first = queue.popleft()
            group, key = [first], self.key(task_of(first))
            if key is not None:
                for item in list(queue):
                    if len(group) == self.size:
                        break
                    if self.key(task_of(item)) == key:
                        queue.remove(item)
                        group.append(item)
            groups.append(group)
        return groups
