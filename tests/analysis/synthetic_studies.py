"""Synthetic studies in the exact Contract 6 format, with structure the tests know in advance."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gan_study.analysis.load import StudyTables, tidy_evaluations, tidy_trials

MODELS = ("mm_gan", "ns_gan", "lsgan", "wgan", "wgan_gp", "dragan", "began", "vae")
STEPS = (3906, 7812, 11718, 15624, 15625)
QUALITY = {"mm_gan": 40.0, "ns_gan": 30.0, "lsgan": 45.0, "wgan": 35.0, "wgan_gp": 32.0, "dragan": 38.0,
           "began": 50.0, "vae": 90.0}
DATASET_SCALE = {"mnist": 0.3, "fashion_mnist": 0.8, "cifar10": 2.0, "celeba": 1.5, "triangles": 0.5}


def trial_rows(study: str, model: str, dataset: str, search: str, scores: Sequence[float],
               statuses: Sequence[str] | None = None, first_trial: int = 0, seeds: Sequence[int] | None = None,
               params: dict[str, Sequence] | None = None, metric: str = "fid", direction: str = "minimize",
               extra_metrics: dict[str, Sequence[float]] | None = None) -> pd.DataFrame:
    """One Contract 6 row per score; `scores[i]` is the trial's best (and final) metric value.

    Trial `first_trial` is the default-hyperparameter trial. Non-completed trials keep their score
    column as given (a diverged run may have evaluations before it diverged).
    """
    n = len(scores)
    statuses = list(statuses) if statuses is not None else ["completed"] * n
    state = {"completed": "COMPLETE", "diverged": "COMPLETE", "failed": "FAIL", "running": "RUNNING",
             "waiting": "WAITING"}
    frame = pd.DataFrame({
        "study": study, "trial": np.arange(first_trial, first_trial + n), "model": model, "dataset": dataset,
        "search": search, "seed": list(seeds) if seeds is not None else [0] * n,
        "state": [state[s] for s in statuses], "status": statuses,
        "reason": [("loss_d is nan at step 5000" if s == "diverged" else "Traceback: boom" if s == "failed" else None)
                   for s in statuses],
        "objective": [v if s == "completed" else np.nan for v, s in zip(scores, statuses)],
        "objective_name": metric, "direction": direction, "is_default": [i == 0 for i in range(n)],
        "default_outside_space": False, "steps": 15625, "runtime_s": 100.0,
        "run_dir": [f"runs/{study}/{first_trial + i}" for i in range(n)],
        f"best_{metric}": list(scores), f"final_{metric}": list(scores)})
    for name, values in (extra_metrics or {}).items():
        frame[f"best_{name}"] = list(values)
        frame[f"final_{name}"] = list(values)
    for name, values in (params or {}).items():
        frame[f"param_{name}"] = list(values)
    return frame


def evaluation_rows(trials: pd.DataFrame, metrics: Sequence[str] = ("fid",)) -> pd.DataFrame:
    """Learning curves ending at each trial's best value: value(step) = best · (1 + 2·exp(−step/4000))."""
    rows = []
    for trial in trials.itertuples(index=False):
        if trial.status not in ("completed", "diverged"):
            continue
        steps = STEPS if trial.status == "completed" else STEPS[:2]
        for index, step in enumerate(steps):
            row = {"study": trial.study, "trial": trial.trial, "model": trial.model, "dataset": trial.dataset,
                   "step": step, "epoch": 5 * (index + 1), "images_seen": step * 64, "wall_time_s": step / 100,
                   "loss_d": 0.5, "loss_g": 1.0}
            for metric in metrics:
                best = getattr(trial, f"best_{metric}")
                decay = 2 * np.exp(-step / 4000) * (step != STEPS[-1])
                row[metric] = best * (1 + decay) if metric == "fid" else best / (1 + decay)
            rows.append(row)
    return pd.DataFrame(rows)


def wide_search(study: str = "paper_wide", datasets: Sequence[str] = ("mnist", "cifar10"), n: int = 30,
                models: Sequence[str] = MODELS, search: str = "wide", diverged: float = 0.1, seed: int = 0
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A realistic-looking search: FID depends on the learning rate, some trials diverge, one failed."""
    rng = np.random.default_rng(seed)
    parts, next_trial = [], 0
    for dataset in datasets:
        for model in models:
            lr = 10 ** rng.uniform(-5, -2, n)
            quality = QUALITY.get(model, 42.0) * DATASET_SCALE.get(dataset, 1.0)
            scores = quality * np.exp(0.8 * (np.log10(lr) + 3.5) ** 2 / 2 + rng.normal(0, 0.25, n))
            statuses = np.where(rng.random(n) < diverged, "diverged", "completed").astype(object)
            statuses[0] = "completed"
            statuses[-1] = "failed" if model == models[0] else statuses[-1]
            params = {"lr": lr, "beta1": rng.uniform(0, 1, n), "n_disc": rng.choice([1, 5], n),
                      "discriminator_batchnorm": rng.choice([True, False], n)}
            extra = {}
            if dataset == "triangles":
                precision = np.clip(1.2 - scores / scores.max() + rng.normal(0, 0.05, n), 0, 1)
                recall = np.clip(precision * rng.uniform(0.5, 1.0, n), 0, 1)
                extra = {"precision": precision, "recall": recall,
                         "f1": 2 * precision * recall / np.maximum(precision + recall, 1e-9)}
            parts.append(trial_rows(study, model, dataset, search, scores, statuses, next_trial, params=params,
                                    extra_metrics=extra))
            next_trial += n
    trials = pd.concat(parts, ignore_index=True)
    metrics = ("fid", "precision", "recall", "f1") if "triangles" in datasets else ("fid",)
    evaluations = pd.concat([evaluation_rows(trials[trials["dataset"] == d],
                                             metrics if d == "triangles" else ("fid",)) for d in datasets],
                            ignore_index=True)
    return trials, evaluations


def seed_study(study: str = "paper_seeds", datasets: Sequence[str] = ("mnist", "cifar10"), n_seeds: int = 10,
               models: Sequence[str] = MODELS, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One configuration per model, n seeds each; the last seed of the first model diverged."""
    rng = np.random.default_rng(seed)
    parts, next_trial = [], 0
    for dataset in datasets:
        for model in models:
            scores = QUALITY.get(model, 42.0) * DATASET_SCALE.get(dataset, 1.0) * rng.normal(1.0, 0.05, n_seeds)
            statuses = ["completed"] * n_seeds
            if model == models[0]:
                statuses[-1] = "diverged"
            parts.append(trial_rows(study, model, dataset, "wide", scores, statuses, next_trial,
                                    seeds=range(n_seeds), params={"lr": [1e-4] * n_seeds}))
            next_trial += n_seeds
    trials = pd.concat(parts, ignore_index=True)
    return trials, evaluation_rows(trials)


def tables_of(*parts: tuple[pd.DataFrame, pd.DataFrame]) -> StudyTables:
    """Tidy StudyTables from (trials, evaluations) pairs, as `gan_study.analysis.load` would read them from files."""
    trials = pd.concat([tidy_trials(t) for t, _ in parts], ignore_index=True)
    evaluations = pd.concat([tidy_evaluations(e) for _, e in parts], ignore_index=True)
    return StudyTables(trials, evaluations, ["<synthetic>"])


GAN_CURVE_SIZES = (100, 1000, 10000)


def gan_train_test_values(rng: np.random.Generator, n: int, sizes: Sequence[int] = GAN_CURVE_SIZES
                          ) -> dict[str, np.ndarray]:
    """Per trial, the values of eval.metrics.gan_train_test: GAN-train / GAN-test in (0.3, 0.9), their harmonic mean,
    a real accuracy near 0.99, and diversity curves rising with n (generated below real)."""
    train, test = rng.uniform(0.3, 0.9, n), rng.uniform(0.3, 0.9, n)
    values = {"gan_train": train, "gan_test": test, "gan_train_test_hmean": 2 * train * test / (train + test),
              "real_accuracy": 0.99 - 0.001 * rng.random(n)}
    for k, size in enumerate(sizes):
        values[f"gan_train_n{size}"] = train * (0.6 + 0.2 * k)
        values[f"real_train_n{size}"] = 0.9 + 0.03 * k + 0.001 * rng.random(n)
    return values


def with_gan_train_test(part: tuple[pd.DataFrame, pd.DataFrame], dataset: str = "mnist", seed: int = 4
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same study with GAN-train / GAN-test values (best = final) on its trials of `dataset`."""
    trials, evaluations = part
    trials = trials.copy()
    chosen = (trials["dataset"] == dataset).to_numpy()
    for name, values in gan_train_test_values(np.random.default_rng(seed), int(chosen.sum())).items():
        for kind in ("best", "final"):
            trials.loc[chosen, f"{kind}_{name}"] = values
    return trials, evaluations
