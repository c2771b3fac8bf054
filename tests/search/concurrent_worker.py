"""One of several processes started at once on the same new study: create it, add its trials, run any trial.

    python concurrent_worker.py <job.pkl> <order seed>

Every process creates the study and its list (the study lock must make that happen once) and then tries
every trial in its own random order (claims must make each trial run once). Prints `ran N` per trial run.
"""
from __future__ import annotations

import pickle
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gan_study.study.search.study import create_or_open, ensure_trials  # noqa: E402
from gan_study.study.search.task import TrialTask  # noqa: E402
from gan_study.study.search.worker import run_trial  # noqa: E402
from stand_in_trainers import scored_trainer  # noqa: E402


def main(job: str, seed: str) -> None:
    plan, configs = pickle.loads(Path(job).read_bytes())
    study = create_or_open(plan.storage_url, plan.spec)
    ensure_trials(plan.storage_url, study, plan.spec, plan.trials, plan.runs_root)
    trials = study.get_trials(deepcopy=False)
    random.Random(int(seed)).shuffle(trials)
    for trial in trials:
        task = TrialTask(plan.storage_url, plan.name, trial.number, trial.user_attrs["run_dir"],
                         configs[trial.user_attrs["list_index"]])
        if run_trial(task, train_fn=scored_trainer) is not None:
            print(f"ran {trial.number}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
