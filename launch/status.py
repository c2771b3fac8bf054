"""`gan-sweep status`: queued / running / done / failed trials per model, read from the studies' storage.

Given the executor (launcher=slurm), one scheduler query also tells the trials whose job is gone while they
are unfinished (`lost`: the next `gan-sweep` run re-submits them) from those truly queued or running.
"""
from __future__ import annotations

import fnmatch
from collections import Counter
from typing import Sequence

from optuna.trial import FrozenTrial

from gan_study.launch.base import TERMINAL, Executor
from gan_study.launch.reconcile import current_job, is_live, submitted_jobs
from gan_study.models.checks import check
from gan_study.study.search.storage import open_storage
from gan_study.study.search.study import load_study, trial_status

COLUMNS = ("queued", "running", "done", "diverged", "pruned", "failed", "lost")
_BUCKET = {"waiting": "queued", "running": "running", "completed": "done", "diverged": "diverged", "pruned": "pruned",
           "failed": "failed"}


def matching_studies(url: str, patterns: Sequence[str]) -> list[str]:
    """Study names matching any pattern (`fashion_mnist-wide-*`); a pattern matching nothing is an error."""
    import optuna

    names = sorted(s.study_name for s in optuna.get_all_study_summaries(open_storage(url), include_best_trial=False))
    chosen = []
    for pattern in patterns:
        found = fnmatch.filter(names, pattern)
        check(bool(found), "study", pattern, f"no study in {url} matches it; it holds {names}")
        chosen += [name for name in found if name not in chosen]
    return chosen


def status_counts(url: str, patterns: Sequence[str], executor: Executor | None = None) -> dict[str, Counter]:
    """Model -> trials per column of COLUMNS, over the studies matching `patterns`."""
    trials: list[tuple[FrozenTrial, dict]] = []
    for name in matching_studies(url, patterns):
        study = load_study(url, name)
        submitted = submitted_jobs(study)
        trials += [(trial, submitted) for trial in study.get_trials(deepcopy=False)]
    jobs = {id(t): ref for t, submitted in trials if executor is not None and trial_status(t) in ("waiting", "running")
            and (ref := current_job(t, submitted, executor))}
    states = executor.states(list(jobs.values())) if jobs else {}
    counts: dict[str, Counter] = {}
    for trial, _ in trials:
        status, ref = trial_status(trial), jobs.get(id(trial))
        # lost: the trial's job is gone while the trial is unfinished (a RUNNING trial of an unknown job is left
        # to its heartbeat; a WAITING one is lost as soon as no job holds it)
        lost = ref is not None and (states[ref] in TERMINAL if status == "running" else not is_live(states[ref]))
        column = "lost" if lost else _BUCKET[status]
        counts.setdefault(str(trial.user_attrs.get("model", "?")), Counter())[column] += 1
    return counts


def format_status(counts: dict[str, Counter]) -> str:
    """A fixed-width table, one row per model and a total."""
    rows = [(model, [counts[model][c] for c in COLUMNS]) for model in sorted(counts)]
    rows.append(("total", [sum(counts[m][c] for m in counts) for c in COLUMNS]))
    width = max(len("model"), *(len(model) for model, _ in rows))
    lines = [f"{'model':<{width}}  " + "  ".join(f"{c:>8}" for c in COLUMNS)]
    lines += [f"{model:<{width}}  " + "  ".join(f"{n:>8}" for n in numbers) for model, numbers in rows]
    return "\n".join(lines)
