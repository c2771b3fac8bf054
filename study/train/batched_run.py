"""K trials trained together as one batched group, each kept as its own run: folder, record, checkpoints, evaluations.

The step is `BatchedTrials` (study/train/batched.py); everything around it is each trial's own `TrainingRun`
(study/train/run.py): resuming from its checkpoint, the divergence watch, progress lines and losses.csv,
evaluations at its own cadence, checkpoints in run_training's format and its record. So a trial can resume alone
(`run_training`) or in another group from any checkpoint a group wrote, and a group can take in trials at
different steps. A trial that diverges, finishes, fails or is told to stop is recorded as its own run would
record it and frozen in the group (its state no longer moves) while the others go on.

Evaluation is per trial: the trial's slice is loaded into its run's networks and evaluated exactly as
run_training evaluates (one encoder pass per trial, not one for the group).
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from gan_study.study.config import ConfigError, TrainRunConfig, validate
from gan_study.study.train.batched import BatchedTrials, batched_trials
from gan_study.study.train.progress import ProgressLog
from gan_study.study.train.record import RunRecord
from gan_study.study.train.run import Diverged, TrainingRun, finished_record
from gan_study.study.train.run_folder import RunFolder


class GroupedRun(TrainingRun):
    """One trial of a batched group: its run's bookkeeping, with the group's slice as its training state."""

    def __init__(self, cfg: TrainRunConfig, folder: RunFolder, group: BatchedTrials, slot: int):
        super().__init__(cfg, folder, train_set=group.train_set)
        self.group, self.slot = group, slot
        self.name = f"{self.name} [{folder.root.parent.name}/{folder.root.name}]"  # its lines among the group's

    def training_state(self) -> dict[str, Any]:
        return self.group.trial_state(self.slot)

    def _evaluate(self) -> dict[str, Any]:
        generator, discriminator = self.group.state_dicts(self.slot)
        self.nets.generator.load_state_dict(generator)
        self.nets.discriminator.load_state_dict(discriminator)
        return super()._evaluate()


def train_group(configs: Sequence[dict], run_dirs: Sequence[Path | str], *,
                should_stop: Sequence[Callable[[], bool]],
                on_evaluation: Sequence[Callable[[dict[str, Any]], None] | None],
                on_end: Sequence[Callable[[RunRecord | dict], None]] | None = None) -> list[RunRecord | dict]:
    """Train (or resume, or just report) each trial's run in its folder, the unfinished ones as one group.

    Per trial, as `run_training` does it: its config validated, a folder of another protocol refused, a finished
    run's record returned as it is. A trial's `should_stop` stops that trial alone (checkpointed, `interrupted`);
    `on_end` hears each trial's record as soon as it has one, while the others may still train.
    Returns one record per trial, in order: a `RunRecord`, or {status: failed, reason} for a refused config.
    """
    on_end = on_end or [lambda record: None] * len(configs)
    records: list[RunRecord | dict | None] = [None] * len(configs)
    pending: list[tuple[int, TrainRunConfig, RunFolder]] = []
    for index, (config, run_dir) in enumerate(zip(configs, run_dirs)):
        try:
            cfg, folder = validate(config), RunFolder(run_dir)
            records[index] = finished_record(cfg, folder, resume=True)
        except ConfigError as error:  # as the worker reports it for a trial alone
            records[index] = {"status": "failed", "reason": str(error)}
        if records[index] is None:
            pending.append((index, cfg, folder))
        else:
            on_end[index](records[index])
    if pending:
        group = BatchedGroup([cfg for _, cfg, _ in pending], [folder for _, _, folder in pending])
        trained = group.train([should_stop[i] for i, _, _ in pending], [on_evaluation[i] for i, _, _ in pending],
                              [on_end[i] for i, _, _ in pending])
        for (index, _, _), record in zip(pending, trained):
            records[index] = record
    return records  # type: ignore[return-value]


class BatchedGroup:
    """The trials of one group: the batched step, and each trial's own run around it."""

    def __init__(self, cfgs: Sequence[TrainRunConfig], folders: Sequence[RunFolder]):
        if cfgs[0].train.threads:
            torch.set_num_threads(cfgs[0].train.threads)
        self.group = batched_trials(cfgs)
        self.runs = [GroupedRun(cfg, folder, self.group, slot) for slot, (cfg, folder) in enumerate(zip(cfgs, folders))]
        self.records: dict[int, RunRecord] = {}
        self.on_end: Sequence[Callable[[RunRecord], None]] = ()

    def train(self, should_stop: Sequence[Callable[[], bool]],
              on_evaluation: Sequence[Callable[[dict[str, Any]], None] | None],
              on_end: Sequence[Callable[[RunRecord], None]] | None = None) -> list[RunRecord]:
        """Train every trial to its end; `on_end[slot]` hears each trial's record as soon as it has one."""
        self.on_end = on_end or [lambda record: None] * len(self.runs)
        progress: dict[int, ProgressLog] = {}
        for slot, run in enumerate(self.runs):
            self._guarded(slot, lambda: self._begin(slot, progress))
        while self.active:
            for slot in self.active:
                if should_stop[slot]():
                    self._guarded(slot, lambda: self._end(slot, self.runs[slot].interrupt()))
            if not self.active:
                break
            try:
                logs = self.group.step()
            except Exception:  # noqa: BLE001 - the step of all: an outcome of every trial still training
                for slot in self.active:
                    self._fail(slot)
                break
            for slot in self.active:
                self._guarded(slot, lambda: self._after_step(slot, logs, progress[slot], on_evaluation[slot]))
        return [self.records[slot] for slot in range(len(self.runs))]

    @property
    def active(self) -> list[int]:
        """The trials still training (not yet recorded)."""
        return [slot for slot in range(len(self.runs)) if slot not in self.records]

    def _begin(self, slot: int, progress: dict[int, ProgressLog]) -> None:
        """Resume the trial's run from its checkpoint (into its slot too), else start its folder afresh."""
        run = self.runs[slot]
        state = run.begin(resume=True)
        if state is not None:
            self.group.load_trial_state(slot, state)
        progress[slot] = run.progress_log()
        if run.step >= run.cfg.total_steps:  # checkpointed at its last step, stopped before its record
            self._end(slot, run.complete(progress[slot]))

    def _after_step(self, slot: int, logs: dict[str, torch.Tensor], progress: ProgressLog, on_evaluation) -> None:
        run = self.runs[slot]
        try:
            run.after_step(self.group.trial_logs(logs, slot), progress, on_evaluation)
        except Diverged as divergence:
            self._end(slot, run.diverged(divergence))
            return
        if run.step >= run.cfg.total_steps:
            self._end(slot, run.complete(progress))

    def _guarded(self, slot: int, action: Callable[[], None]) -> None:
        """`action` of one trial; if it raises, that trial alone is recorded failed (with the traceback) and frozen."""
        try:
            action()
        except Exception:  # noqa: BLE001 - one trial's crash is its outcome, not its group's
            self._fail(slot)

    def _fail(self, slot: int) -> None:
        """Inside an `except`: the trial is recorded failed with the traceback, as run_training records a crash."""
        run = self.runs[slot]
        record = run.finish("failed", traceback.format_exc())
        record.write(run.folder.record)
        self._end(slot, record)

    def _end(self, slot: int, record: RunRecord) -> None:
        """The trial's outcome is recorded: its slot stops moving, the others go on."""
        self.records[slot] = record
        self.group.freeze(slot)
        self.on_end[slot](record)
