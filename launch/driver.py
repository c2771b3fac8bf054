"""The sweep driver's loop: feed the executor, reconcile ended jobs, requeue dead trials, stop cleanly on a signal."""
from __future__ import annotations

import logging
import signal
import time
from collections import Counter, deque
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from gan_study.launch.base import TERMINAL, Executor, JobRef
from gan_study.launch.batching import TrialGrouper
from gan_study.launch.progress import Progress, count_entries
from gan_study.launch.reconcile import requeue_lost
from gan_study.launch.signals import stop_on_signals
from gan_study.launch.sweep_settings import SweepSettings
from gan_study.study.search.optuna_adapter import trial_of, trials_of
from gan_study.study.search.plan import StudyPlan
from gan_study.study.search.storage import dashboard_argument, storage_file
from gan_study.study.search.liveness import dead_reason
from gan_study.study.search.study import ask_trial, create_or_open, ensure_trials, requeue, retry_failed, trial_status

log = logging.getLogger("gan_study.sweep")


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
        self.grouper = TrialGrouper(executor.batch) if executor.batch > 1 else None

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
        if self.grouper is None:
            free = len(self.queue) if capacity is None else capacity - len(self.in_flight)
            batch = [self.queue.popleft() for _ in range(min(free, len(self.queue)))]
            refs = self.executor.submit([plan.task(trial) for plan, trial in batch]) if batch else []
        else:  # launcher.batch: groups of trials that train together, as many groups as there are free workers
            workers = None if capacity is None else \
                capacity // self.executor.batch - len({ref.job_id for ref in self.in_flight})
            groups = self.grouper.take(self.queue, workers, lambda item: item[0].task(item[1]))
            batch = [item for group in groups for item in group]
            refs = self.executor.submit_groups([[plan.task(trial) for plan, trial in group] for group in groups]) \
                if groups else []
        for ref, (plan, _) in zip(refs, batch):
            self.in_flight[ref] = plan
        return len(batch)

    def run(self) -> dict[str, Counter]:
        self.prepare()
        if self.executor.detached and not self.settings.follow and not self.exits_once_submitted:
            log.info("an adaptive sampler asks each new trial from the results so far: the driver stays until "
                     "the study ends (follow=true implied)")
        last_check = -float("inf")
        with stop_on_signals(self):
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
