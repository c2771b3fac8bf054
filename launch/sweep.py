"""`gan-sweep`: create or re-open the studies, work out which trials still need running, run them, record them.

    gan-sweep model=wgan_gp dataset=mnist search=wide n_trials=100
    gan-sweep models=[ns_gan,wgan_gp] dataset=mnist search=narrow n_trials=50 launcher.max_parallel=4
    gan-sweep experiment=seeds models=all dataset=mnist n_seeds=50
    gan-sweep ... --dry-run
    gan-sweep status study='mnist-wide-*'          # queued / running / done / failed / lost per model
    gan-sweep logs study=mnist-wide-wgan_gp trial=17

Re-running the same command resumes: COMPLETE trials are never re-run, trials of dead workers are found
(dead process, stale heartbeat, lost job) and resumed from their checkpoints. With launcher=slurm the driver
exits once every trial is queued (`follow=true` keeps it). docs/sweeps.md has the details.
"""
from __future__ import annotations

import logging
import math
import signal
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from optuna.trial import FrozenTrial, TrialState

from gan_study.launch.base import TERMINAL, Executor, JobRef
from gan_study.launch.commands import COMMANDS, run_command
from gan_study.launch.config_tree import composer, missing_space, models_with_space
from gan_study.launch.progress import Progress, count_entries
from gan_study.launch.reconcile import requeue_lost
from gan_study.study.config import ConfigError
from gan_study.study.search.credentials import for_workers, scrub_hydra_output
from gan_study.study.search.optuna_adapter import trial_of, trials_of
from gan_study.study.search.plan import StudyPlan, plan_search, plan_seeds
from gan_study.study.search.storage import absolute_url, dashboard_argument, open_storage, storage_file
from gan_study.study.search.study import (create_or_open, dead_reason, ensure_trials, ask_trial, requeue, retry_failed,
                                trial_status)

log = logging.getLogger("gan_study.sweep")

KINDS = ("search", "seeds")


def _positive(cfg: Mapping[str, Any], key: str, kind: type = float, minimum: float = 0.0, prefix: str = "") -> Any:
    value = cfg.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not minimum <= value < math.inf or \
            (kind is int and not isinstance(value, int)):
        what = "an integer" if kind is int else "a finite number"
        raise ConfigError(f"{prefix}{key} = {value!r} is not allowed: {what} >= {minimum}")
    return kind(value)


def _flag(cfg: Mapping[str, Any], key: str) -> bool:
    if not isinstance(cfg.get(key), bool):
        raise ConfigError(f"{key} = {cfg.get(key)!r} is not allowed: true or false")
    return cfg[key]


@dataclass(frozen=True)
class SweepSettings:
    """How the driver behaves (none of it changes a result; the study specs hold what does)."""

    kind: str
    dry_run: bool
    heartbeat_s: float
    grace_s: float
    max_requeues: int
    retry_failed: bool
    wait_for_others: bool
    follow: bool
    poll_s: float
    progress_every_s: float

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> SweepSettings:
        kind = cfg.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"kind = {kind!r} is not allowed: one of {list(KINDS)} (experiment=seeds sets seeds)")
        heartbeat = cfg.get("heartbeat") or {}
        settings = cls(kind=kind, dry_run=_flag(cfg, "dry_run"),
                       heartbeat_s=_positive(heartbeat, "interval_s", minimum=0.01, prefix="heartbeat."),
                       grace_s=_positive(heartbeat, "grace_s", minimum=0.01, prefix="heartbeat."),
                       max_requeues=_positive(cfg, "max_requeues", int), retry_failed=_flag(cfg, "retry_failed"),
                       wait_for_others=_flag(cfg, "wait_for_others"), follow=_flag(cfg, "follow"),
                       poll_s=_positive(cfg, "poll_s", minimum=0.01),
                       progress_every_s=_positive(cfg, "progress_every_s"))
        if settings.grace_s <= 2 * settings.heartbeat_s:
            raise ConfigError(f"heartbeat.grace_s = {settings.grace_s} is not allowed: more than twice "
                              f"heartbeat.interval_s = {settings.heartbeat_s}, or live workers look dead")
        return settings


def model_names(cfg: Mapping[str, Any]) -> list[str]:
    """`models=null`: the model group's model; a list; or `all`: every model with a space in the search (the
    config tree's `search/<space>/<model>.yaml` files, the user's folders on hydra.searchpath included)."""
    models = cfg.get("models")
    if OmegaConf.is_config(models):
        models = OmegaConf.to_container(models)
    if models is None:
        return [cfg["model"]["name"]]
    if models == "all":
        covered = models_with_space(str(cfg["search"]["name"]))  # the model group's model first, then by name
        return sorted(covered, key=lambda name: (name != cfg["model"]["name"], name))
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, (list, tuple)) or not models or not all(isinstance(m, str) for m in models):
        raise ConfigError(f"models = {models!r} is not allowed: null, all, or a list such as [ns_gan,wgan_gp]")
    return list(dict.fromkeys(models))


def build_plans(cfg: DictConfig, compose_model: Callable[[str], DictConfig] | None, *,
                check_files: bool = True) -> list[StudyPlan]:
    """One plan per model, every pending trial's config validated before anything is created or run
    (`check_files=False`, a dry run: without looking for the files a real run needs, such as weights)."""
    kind = cfg.get("kind")
    storage_url = for_workers(absolute_url(str(cfg.storage.url)))  # a password goes to PGPASSWORD, never to a file
    plans = []
    for model in model_names(cfg):
        if model == cfg.model.name:
            composed = cfg
        elif compose_model is None:
            raise ConfigError(f"models = {list(cfg.models)}: composing other models needs the gan-sweep app")
        else:
            try:
                composed = compose_model(model)
            except HydraException as error:
                raise ConfigError(f"models: {model!r} cannot be composed ({error}); models are the names in "
                                  "conf/model/ (a plugin's in its config folder, on hydra.searchpath)") from None
        if kind != "seeds" and composed.search.get("space") is None:
            raise missing_space(model, str(composed.search.name))
        plain = OmegaConf.to_container(composed, resolve=True)
        plan = (plan_seeds if kind == "seeds" else plan_search)(plain, storage_url, check_files=check_files)
        for entry in plan.trials:
            plan.config(entry.values, entry.seed)
        plans.append(plan)
    names = [p.name for p in plans]
    if len(set(names)) != len(names):
        raise ConfigError(f"study_name gives the same name to several studies: {names}; include ${{model.name}}")
    return plans


def print_dry_run(plans: list[StudyPlan]) -> None:
    """The trial list of each study (and the state of trials the storage already holds); nothing is written."""
    import optuna

    for plan in plans:
        existing = {}
        path = storage_file(plan.storage_url)
        if path is None or path.exists():  # never create a storage file just to look into it
            try:
                existing = {t.user_attrs.get("list_index"): t for t in
                            optuna.load_study(study_name=plan.name, storage=open_storage(plan.storage_url))
                            .get_trials(deepcopy=False)}
            except KeyError:
                pass
        spec = plan.spec
        print(f"study {plan.name}: model={spec.model} dataset={spec.dataset} search={spec.search} "
              f"sampler={spec.sampler.name}(seed={spec.sampler.seed}) objective={spec.objective.direction} "
              f"{spec.objective.name}; {len(plan.trials)} trial(s), storage {plan.storage_url}"
              + ("" if existing else " (new)"))
        for entry in plan.trials:
            trial = existing.get(entry.index)
            state = trial_status(trial) if trial else "new"
            values = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.values.items())
            flags = (" [default]" if entry.is_default else "") + (
                f" [outside the space: {','.join(entry.outside_space)}]" if entry.outside_space else "")
            print(f"  {entry.index:4d} {state:9s} seed={entry.seed} {values}{flags}")
        if spec.sampler.adaptive:
            print(f"  ... and trials proposed by {spec.sampler.name} while the study runs, up to n_trials")


class Sweep:
    """The driver loop: keep the executor fed with waiting trials, reconcile ended jobs, requeue dead trials.

    The waiting trials are read when the queue runs dry, every `poll_s` only the RUNNING ones (to find dead
    workers), and every `progress_every_s` all of them once, to count progress as the storage holds it. With a
    detached executor (SLURM) and `follow=false` the loop ends once every trial is submitted. The first Ctrl-C
    (or SIGTERM) stops it: running trials checkpoint and wait again, and `run` raises `SweepStopped` once they
    have.
    """

    def __init__(self, plans: list[StudyPlan], executor: Executor, settings: SweepSettings, n_trials: int):
        self.plans, self.executor, self.settings, self.n_trials = plans, executor, settings, n_trials
        self.studies: dict[str, Any] = {}
        self.in_flight: dict[JobRef, StudyPlan] = {}
        self.queue: deque[tuple[StudyPlan, FrozenTrial]] = deque()
        self.live = Counter()
        self.running_elsewhere = 0
        self.stopping = False
        self.stop_signal: int | None = None
        self.progress = Progress(sum(self._limit(p) for p in plans), settings.progress_every_s)

    def _limit(self, plan: StudyPlan) -> int:
        return self.n_trials if plan.spec.sampler.adaptive else len(plan.trials)

    @property
    def exits_once_submitted(self) -> bool:
        """Detached jobs run without the driver, unless `follow=true` or an adaptive sampler needs it.

        An adaptive sampler (tpe) proposes each trial from the results so far: submitting all `n_trials` at
        once would draw them without a single result (a random search in disguise), so the driver follows.
        """
        return self.executor.detached and not self.settings.follow and \
            not any(plan.spec.sampler.adaptive for plan in self.plans)

    def prepare(self) -> None:
        for plan in self.plans:
            study = create_or_open(plan.storage_url, plan.spec, self.settings.heartbeat_s)
            ensure_trials(plan.storage_url, study, plan.spec, plan.trials, plan.runs_root)
            if self.executor.detached:  # a local executor cannot tell another driver's process from a dead one
                requeue_lost(plan.storage_url, study, self.executor, self.settings.max_requeues)
            if self.settings.retry_failed:
                retry_failed(plan.storage_url, study, plan.spec)
            self.studies[plan.name] = study
        url = self.plans[0].storage_url
        log.info("studies %s in %s; watch them live with: optuna-dashboard %s", [p.name for p in self.plans], url,
                 dashboard_argument(url))

    def _trials(self, plan: StudyPlan, *states: TrialState) -> list[FrozenTrial]:
        return trials_of(self.studies[plan.name], states)

    def _ours(self) -> set[tuple[str, int]]:
        return {(plan.name, ref.trial_number) for ref, plan in self.in_flight.items()}

    def check(self) -> None:
        """Requeue RUNNING trials of dead workers; count the live ones of other workers."""
        ours = self._ours()
        self.running_elsewhere = 0
        for plan in self.plans:
            study = self.studies[plan.name]
            for trial in self._trials(plan, TrialState.RUNNING):
                if (plan.name, trial.number) in ours:
                    continue
                reason = dead_reason(trial, self.settings.grace_s)
                if reason is None:
                    self.running_elsewhere += 1
                elif requeue(plan.storage_url, study, trial.number, reason, grace_s=self.settings.grace_s,
                             max_requeues=self.settings.max_requeues) == "requeued" and not self.stopping:
                    self.queue.append((plan, trial_of(study, trial.number)))

    def count(self) -> None:
        """The list entries by state as the storage holds them: one read of every trial, so only when a progress
        line is due (`progress_every_s`) and at the end."""
        self.live = sum((count_entries(self._trials(plan), self._limit(plan)) for plan in self.plans), Counter())

    def refill(self) -> None:
        """The queue = every WAITING trial of the list not already submitted (and, adaptive: new proposals)."""
        ours = self._ours()
        self.queue.clear()
        if self.stopping:
            return
        for plan in self.plans:
            for trial in self._trials(plan, TrialState.WAITING):
                in_list = int(trial.user_attrs.get("list_index", 0)) < self._limit(plan)
                if (plan.name, trial.number) not in ours and in_list:
                    self.queue.append((plan, trial))
            if plan.spec.sampler.adaptive:
                self._ask_more(plan)

    def _ask_more(self, plan: StudyPlan) -> None:
        study = self.studies[plan.name]
        for _ in range(max(self.executor.concurrency - len(self.in_flight) - len(self.queue), 0)):
            number = ask_trial(plan.storage_url, study, plan.spec, self.n_trials, plan.runs_root)
            if number is None:
                return
            self.queue.append((plan, trial_of(study, number)))

    def reconcile(self) -> None:
        """Jobs that ended without their worker reporting (killed, crashed) leave RUNNING trials: requeue them.

        COMPLETED jobs too: a packed array task ends COMPLETED when one of its trials was killed. `requeue`
        re-reads the trial under the study lock and acts only on one still RUNNING under that job.
        """
        if not self.in_flight:
            return
        for ref, state in self.executor.states(list(self.in_flight)).items():
            if state not in TERMINAL:
                continue
            plan = self.in_flight.pop(ref)
            requeue(plan.storage_url, self.studies[plan.name], ref.trial_number,
                    f"its job {ref.job_id} ended {state} without reporting", job_id=ref.job_id,
                    max_requeues=self.settings.max_requeues)

    def submit_queued(self) -> int:
        capacity = self.executor.capacity
        free = len(self.queue) if capacity is None else capacity - len(self.in_flight)
        batch = [self.queue.popleft() for _ in range(min(free, len(self.queue)))]
        if not batch:
            return 0
        refs = self.executor.submit([plan.task(trial) for plan, trial in batch])
        for ref, (plan, _) in zip(refs, batch):
            self.in_flight[ref] = plan
        return len(batch)

    def run(self) -> dict[str, Counter]:
        self.prepare()
        if self.executor.detached and not self.settings.follow and not self.exits_once_submitted:
            log.info("an adaptive sampler asks each new trial from the results so far: the driver stays until "
                     "the study ends (follow=true implied)")
        last_check = -float("inf")
        with _stop_on_signals(self):
            while True:
                if self.stop_signal is not None and not self.stopping:  # the first Ctrl-C / SIGTERM
                    self.stopping = True
                    self.queue.clear()
                    self.executor.stop()  # our running trials checkpoint and wait again; nothing more is submitted
                self.reconcile()
                if not self.queue and not self.stopping:
                    self.refill()
                if time.monotonic() - last_check >= self.settings.poll_s or not (self.queue or self.in_flight):
                    self.check()
                    last_check = time.monotonic()
                    if self.progress.due():
                        self.count()
                        self.progress.update(self.live)
                submitted = 0 if self.stopping else self.submit_queued()
                if not submitted and not self.queue and self.exits_once_submitted:
                    break  # everything is queued after a refill found nothing more: the jobs run on their own
                if self.stopping and (self.executor.detached or not self.in_flight):
                    break  # our trials have checkpointed (detached jobs stay with their scheduler)
                if not submitted and not self.in_flight and not self.queue:
                    if not (self.settings.wait_for_others and self.running_elsewhere):
                        break
                if not submitted:
                    time.sleep(self.settings.poll_s)
        counts = self.summary()
        if self.stopping:
            raise SweepStopped(self.stop_signal, counts, self.executor)
        if self.exits_once_submitted:
            self.log_detached(counts)
        return counts

    def summary(self) -> dict[str, Counter]:
        """Exact counts per study (one full read at the end), logged and returned."""
        counts = {}
        for plan in self.plans:
            counts[plan.name] = Counter(trial_status(t) for t in self._trials(plan))
            log.info("study %s: %s", plan.name, ", ".join(f"{n} {s}" for s, n in sorted(counts[plan.name].items())))
        self.count()
        self.progress.update(self.live, force=True)
        if self.running_elsewhere:
            log.info("%d trial(s) still run in other workers; re-run this command to pick up any whose worker dies",
                     self.running_elsewhere)
        return counts

    def log_detached(self, counts: dict[str, Counter]) -> None:
        """What this driver leaves with the scheduler, and the two commands that follow it from here."""
        waiting, running = (sum(c[status] for c in counts.values()) for status in ("waiting", "running"))
        if not waiting + running:
            return
        jobs = sorted({ref.job_id.split("_")[0] for ref in self.in_flight}, key=lambda job: (len(job), job))
        log.info("the driver exits; %d waiting and %d running trial(s) are in the hands of %s (job(s) %s)", waiting,
                 running, self.executor.name, ", ".join(jobs) or "of earlier runs")
        url = self.plans[0].storage_url
        # a server's URL may hold a password: the user repeats what named it
        storage = f" storage.url={url}" if storage_file(url) is not None else " <this command's storage override>"
        log.info("follow them:  gan-sweep status %s%s", " ".join(f"study={p.name}" for p in self.plans), storage)
        log.info("reconcile:    re-run this command (it re-submits trials whose job died, never finished ones; "
                 "follow=true stays until every job has ended)")


class SweepStopped(Exception):
    """The sweep was stopped by a signal before its end; the message says what stays queued."""

    def __init__(self, signum: int, counts: dict[str, Counter], executor: Executor):
        self.signum = signum
        total = sum(counts.values(), Counter())
        queued = total["waiting"] + total["running"]
        where = f", {total['running']} of them running in {executor.name} jobs" if total["running"] else ""
        super().__init__(f"stopped by {signal.Signals(signum).name}: {queued} trial(s) stay queued{where} "
                         f"({total['completed'] + total['diverged']} done, {total['failed']} failed); re-run the same "
                         "command to resume them from their checkpoints")


class SweepAborted(KeyboardInterrupt):
    """A second Ctrl-C / SIGTERM while the running trials were checkpointing."""


class _stop_on_signals:
    """First Ctrl-C / SIGTERM: running trials checkpoint and wait again, then the driver ends; the second aborts."""

    def __init__(self, sweep: Sweep):
        self.sweep = sweep
        self.previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame) -> None:
        if self.sweep.stop_signal is not None:
            raise SweepAborted(f"aborted by a second {signal.Signals(signum).name}: trials that were still "
                               "checkpointing are resumed by the next run from their last checkpoint")
        log.warning("%s: stopping; running trials checkpoint and are resumed by the next run (again to abort)",
                    signal.Signals(signum).name)
        self.sweep.stop_signal = signum
        self.sweep.executor.request_stop()  # the loop then stops submitting and waits for them (`stop`)

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may install handlers; a driver in a thread stops with its process
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self._handle)

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def run_sweep(cfg: DictConfig, *, compose_model: Callable[[str], DictConfig] | None = None,
              executor: Executor | None = None) -> dict[str, Counter] | None:
    """The whole command: plans (validated), then the dry-run listing or the sweep itself."""
    settings = SweepSettings.from_config(cfg)
    plans = build_plans(cfg, compose_model, check_files=not settings.dry_run)
    if settings.dry_run:
        print_dry_run(plans)
        return None
    if executor is None:
        from gan_study.launch.registry import build_executor

        executor = build_executor(OmegaConf.to_container(cfg.launcher, resolve=True), Path(cfg.runs_root).absolute())
    return Sweep(plans, executor, settings, int(cfg.n_trials)).run()


def _app(cfg: DictConfig) -> None:
    scrub_hydra_output(cfg.storage.url)
    try:
        run_sweep(cfg, compose_model=composer())
    except ConfigError as error:
        print(f"gan-sweep: invalid config: {error}", file=sys.stderr)
        sys.exit(2)
    except SweepStopped as stopped:
        print(f"gan-sweep: {stopped}", file=sys.stderr)
        sys.exit(128 + stopped.signum)
    except SweepAborted as aborted:
        print(f"gan-sweep: {aborted}", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
    except KeyboardInterrupt:  # before the driver's loop (validation, opening the studies) or after it
        print("gan-sweep: interrupted by SIGINT outside the trial loop; re-run the same command to go on",
              file=sys.stderr)
        sys.exit(128 + signal.SIGINT)


DRY_RUN_HYDRA = {"hydra.run.dir": ".", "hydra.output_subdir": "null", "hydra/job_logging": "console"}
"""A dry run's Hydra settings: no output folder, no saved config, no log file (the user's own overrides win)."""


def _writes_nothing(args: list[str]) -> list[str]:
    given = {arg.split("=", 1)[0].lstrip("+~") for arg in args}
    return [f"{key}={value}" for key, value in DRY_RUN_HYDRA.items() if key not in given]


def main() -> None:
    """Console script: `status` and `logs` sub-commands (gan_study.launch.commands); `--dry-run` means dry_run=true."""
    import hydra

    if sys.argv[1:2] and sys.argv[1] in COMMANDS:
        sys.exit(run_command(sys.argv[1], sys.argv[2:]))
    sys.argv = [("dry_run=true" if arg == "--dry-run" else arg) for arg in sys.argv]
    if "dry_run=true" in sys.argv:
        sys.argv += _writes_nothing(sys.argv[1:])
    hydra.main(config_path="../conf", config_name="sweep", version_base="1.3")(_app)()


if __name__ == "__main__":
    main()
