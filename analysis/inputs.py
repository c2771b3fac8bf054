"""What every figure and table is drawn from: the study tables, the sanity experiments and the options."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gan_study.analysis.aggregates import aggregate_frames
from gan_study.analysis.comparisons import VerdictOptions, verdict_frame
from gan_study.analysis.load import StudyTables
from gan_study.analysis.scores import BudgetOptions, ScoreSpec, budget_frame, score_spec


@dataclass(frozen=True)
class ReportOptions:
    """The analysis choices a report states: which score, which budget estimator, which hyperparameters."""

    metric: str = "fid"
    score: str = "best"
    """`best`: each run's best evaluation (the paper's code); `final`: its last evaluation."""
    budget: BudgetOptions = field(default_factory=BudgetOptions)
    directions: Mapping[str, str] = field(default_factory=dict)
    """Overrides of which way a metric is better, for metrics the analysis does not know."""
    sensitivity_params: tuple[str, ...] = ("lr", "beta1", "n_disc")
    paper_unverified: bool = False
    """Show the paper's best-FID values (recalled, UNVERIFIED: docs/protocol.md#published-numbers) beside ours, labelled so."""
    verdicts: VerdictOptions = field(default_factory=VerdictOptions)

    def describe_budget(self) -> str:
        b = self.budget
        if b.method == "exact":
            how = "exact order statistics of the empirical distribution (no resampling noise)"
        else:
            how = f"bootstrap, B = {b.resamples} resamples {'with' if b.replace else 'without'} replacement"
        band = ("mean ± 1 sd, cut at the score's range (FID, SWD and distances ≥ 0, IS ≥ 1, accuracies in [0, 1])" if b.interval == "sd"
                else f"mean and {b.level:.0%} percentile interval")
        return f"{how}; {band}"


@dataclass
class ReportInputs:
    """Tables + options, with the budget curves computed once and shared by figures and tables."""

    tables: StudyTables
    options: ReportOptions = field(default_factory=ReportOptions)
    bias_variance: pd.DataFrame | None = None
    """FID between two real sample sets, one row per draw: `dataset, fid[, encoder, n]` (gan_study.analysis.sanity)."""
    mode_dropping: pd.DataFrame | None = None
    """FID of real sets keeping the first k classes, one row per draw: `dataset, k, fid[, is, encoder, n]`."""
    split_sensitivity: pd.DataFrame | None = None
    """FID between the parts of random 6:1 partitions of all images, one row per partition: `dataset, fid[, encoder, n]`."""
    encoder_sensitivity: pd.DataFrame | None = None
    """FID of trained generators under two encoders, one row per generator: `generator, fid_<a>, fid_<b>`."""
    tsne: pd.DataFrame | None = None
    """t-SNE of classifier features, one row per image: `dataset, run, source (real | generated), label, x, y`."""
    augmentation: pd.DataFrame | None = None
    """Test accuracy of classifiers trained on real + generated images: `dataset, n_real, ratio, accuracy`."""
    runs_root: Path | None = None
    """The folder relative run_dir paths are relative to: where a budget in hours reads each run's hardware."""
    _budgets: dict = field(default_factory=dict, repr=False)
    _verdicts: dict = field(default_factory=dict, repr=False)
    _aggregates: dict = field(default_factory=dict, repr=False)

    def spec(self, metric: str | None = None) -> ScoreSpec:
        """The score of `metric` (default: the report's metric), as the options say."""
        return score_spec(self.tables.trials, metric or self.options.metric, self.options.score,
                          self.options.directions)

    @staticmethod
    def main_search(trials: pd.DataFrame) -> str | None:
        """The search a single-search figure shows: `wide` (the paper's phase 1) if present, else the largest."""
        searches = trials.loc[~trials["seed_study"], "search"]
        if searches.empty:
            return None
        return "wide" if (searches == "wide").any() else searches.value_counts().index[0]

    def budget(self, spec: ScoreSpec, search: str | None) -> pd.DataFrame:
        key = (spec, search)
        if key not in self._budgets:
            self._budgets[key] = budget_frame(self.tables.trials, spec, self.options.budget, search)
        return self._budgets[key]

    def verdicts(self, spec: ScoreSpec, search: str | None = None) -> pd.DataFrame:
        """Every pair's verdicts (gan_study.analysis.comparisons), computed once per score and search."""
        key = (spec, search)
        if key not in self._verdicts:
            self._verdicts[key] = verdict_frame(self.tables.trials, spec, self.options.verdicts,
                                                self.options.budget.replace, search, self.runs_root)
        return self._verdicts[key]

    def aggregates(self, spec: ScoreSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
        """IQM per loss and performance profiles across data sets (gan_study.analysis.aggregates), of the main search."""
        if spec not in self._aggregates:
            options = self.options.verdicts
            self._aggregates[spec] = aggregate_frames(self.tables.trials, spec, self.main_search(self.tables.trials),
                                                      options.resamples, options.level, options.seed)
        return self._aggregates[spec]

    def all_verdicts(self) -> pd.DataFrame:
        """Every verdict computed so far, at every budget, in one CSV-ready table."""
        frames = [frame for frame in self._verdicts.values() if not frame.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def budget_curves(self) -> pd.DataFrame:
        """Every budget curve computed so far (by figures and tables), in one CSV-ready table."""
        frames = [frame for frame in self._budgets.values() if not frame.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
