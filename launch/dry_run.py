"""`gan-sweep --dry-run`: print each study's trial list, and the states the storage already holds, writing nothing."""
from __future__ import annotations

from gan_study.study.search.plan import StudyPlan
from gan_study.study.search.storage import open_storage, storage_file
from gan_study.study.search.study import trial_status


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
