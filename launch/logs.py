"""`gan-sweep logs`: a trial's stdout and stderr, and its job's scheduler-side log, found from the trial itself.

Every executor links the trial's log in its `log_path` attribute: SLURM `<study>/logs/<job id>/trial_N.out`
(with `trial_N.err` and submitit's `<job id>_0_log.out/.err` beside it), local `<study>/logs/trial_N.log`.
"""
from __future__ import annotations

from pathlib import Path

from gan_study.models.checks import check
from gan_study.study.config import ConfigError
from gan_study.study.search.study import load_study, trial_status

JOB_LOG_SUFFIXES = ("_log.out", "_log.err")
"""submitit's per-job files: the array task's own output (requeues, signals, the packed trials' exits)."""


def trial_log_files(log_path: Path) -> list[Path]:
    """The trial's log, its siblings of the same name (stderr), then the job's own logs, as they exist."""
    folder = log_path.parent
    siblings = sorted(p for p in folder.glob(f"{log_path.stem}.*") if p != log_path and p.suffix in (".out", ".err",
                                                                                                      ".log"))
    job_logs = sorted(p for p in folder.iterdir() if p.name.endswith(JOB_LOG_SUFFIXES)) if folder.is_dir() else []
    return [p for p in [log_path, *siblings, *job_logs] if p.is_file()]


def trial_logs(url: str, study_name: str, trial_number: int, tail: int | None = None) -> str:
    """The text `gan-sweep logs study=... trial=N` prints: each file under a `==> path <==` header."""
    trials = load_study(url, study_name).get_trials(deepcopy=False)
    by_number = {t.number: t for t in trials}
    check(trial_number in by_number, "trial", trial_number,
          f"study {study_name!r} has trials {min(by_number, default=0)}..{max(by_number, default=-1)}")
    trial = by_number[trial_number]
    log_path = trial.user_attrs.get("log_path")
    if not log_path:
        raise ConfigError(f"trial {trial_number} of {study_name!r} has no log yet: it is {trial_status(trial)} "
                          "and no executor has started it")
    files = trial_log_files(Path(log_path))
    if not files:
        raise ConfigError(f"trial {trial_number} of {study_name!r}: its log {log_path} does not exist (yet); the "
                          f"job {trial.user_attrs.get('job_id')} may still be queued")
    parts = []
    for path in files:
        lines = path.read_text(errors="replace").splitlines()
        shown = lines if tail is None else lines[-tail:]
        parts.append(f"==> {path} <==\n" + "\n".join(shown))
    return "\n\n".join(parts) + "\n"
