"""The GAN-train / GAN-test figures, drawn from studies whose values the test chose."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from synthetic_studies import GAN_CURVE_SIZES, evaluation_rows, gan_train_test_values, tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, draw_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import model_color

MODELS = ("ns_gan", "wgan_gp", "hinge_gan")
N = 4


@pytest.fixture(scope="module")
def gan_study() -> ReportInputs:
    """MNIST, 3 models × 4 trials; trial 2 of wgan_gp diverged. Each trial has two evaluations: the first with the
    best harmonic mean (GAN-train/GAN-test = final - 0.2), the second (final) with the trial's final values."""
    rng = np.random.default_rng(3)
    parts = []
    for index, model in enumerate(MODELS):
        values = gan_train_test_values(rng, N)
        hmean = values.pop("gan_train_test_hmean")
        statuses = ["completed"] * N if model != "wgan_gp" else ["completed", "completed", "diverged", "completed"]
        trials = trial_rows("gan", model, "mnist", "wide", hmean, statuses, first_trial=index * N,
                            metric="gan_train_test_hmean", direction="maximize", extra_metrics=values)
        evaluations = evaluation_rows(trials, metrics=())
        evaluations = evaluations[evaluations["step"].isin([3906, 15625])].copy()
        final = evaluations["step"] == 15625
        by_trial = trials.set_index("trial")
        for name in ("gan_train", "gan_test", "real_accuracy"):
            column = evaluations["trial"].map(by_trial[f"final_{name}"])
            evaluations[name] = column.where(final, column - 0.2 if name != "real_accuracy" else column)
        evaluations["gan_train_test_hmean"] = evaluations["trial"].map(by_trial["final_gan_train_test_hmean"])
        evaluations.loc[~final, "gan_train_test_hmean"] += 0.1  # the earlier evaluation is the best one
        parts.append((trials, evaluations))
    return ReportInputs(tables_of(*parts))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_scatter_reads_each_trial_at_its_best_harmonic_mean_evaluation(gan_study):
    fig = draw_figure("gan_train_vs_gan_test", gan_study)
    (ax,) = fig.axes
    trials = gan_study.tables.trials
    for model in MODELS:
        completed = trials[(trials["model"] == model) & (trials["status"] == "completed")]
        points = next(c for c in ax.collections if c.get_gid() == model)
        expected = np.column_stack([completed["final_gan_test"] - 0.2, completed["final_gan_train"] - 0.2])
        assert np.allclose(np.sort(points.get_offsets(), axis=0), np.sort(expected, axis=0))
        assert tuple(points.get_facecolor()[0][:3]) == pytest.approx(plt.matplotlib.colors.to_rgb(model_color(model)))
    assert len(next(c for c in ax.collections if c.get_gid() == "wgan_gp").get_offsets()) == N - 1  # diverged: out
    reference = next(line for line in ax.get_lines() if line.get_gid() == "real_accuracy")
    completed = trials[trials["status"] == "completed"]
    assert reference.get_xdata()[0] == pytest.approx(completed["final_real_accuracy"].median())
    assert "GAN-test" in ax.get_xlabel() and "GAN-train" in ax.get_ylabel()


def test_scatter_falls_back_to_final_values_without_learning_curves(gan_study):
    no_curves = ReportInputs(type(gan_study.tables)(gan_study.tables.trials, gan_study.tables.evaluations[
        ["study", "trial", "model", "dataset", "step"]], ["<synthetic>"]))
    ax = draw_figure("gan_train_vs_gan_test", no_curves).axes[0]
    trials = gan_study.tables.trials
    ns = trials[(trials["model"] == "ns_gan")]
    points = next(c for c in ax.collections if c.get_gid() == "ns_gan").get_offsets()
    assert np.allclose(np.sort(points, axis=0), np.sort(ns[["final_gan_test", "final_gan_train"]].to_numpy(), axis=0))


def test_diversity_curves_draw_each_models_best_trial_and_the_real_curve(gan_study):
    fig = draw_figure("diversity_curves", gan_study)
    ax = fig.axes[0]
    trials = gan_study.tables.trials
    lines = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
    assert list(lines) == ["ns_gan", "wgan_gp", "hinge_gan", "real"]
    for model in MODELS:
        mine = trials[(trials["model"] == model) & (trials["status"] == "completed")]
        best = mine.loc[mine["final_gan_train_test_hmean"].idxmax()]
        assert np.array_equal(lines[model].get_xdata(), GAN_CURVE_SIZES)
        assert np.allclose(lines[model].get_ydata(), [best[f"final_gan_train_n{n}"] for n in GAN_CURVE_SIZES])
    completed = trials[trials["status"] == "completed"]
    real = [completed[f"final_real_train_n{n}"].median() for n in GAN_CURVE_SIZES]
    assert np.allclose(lines["real"].get_ydata(), real)
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["NS GAN", "WGAN GP", "hinge_gan", "real images"]


def test_without_gan_train_test_values_both_figures_are_skipped_with_the_reason():
    trials = trial_rows("plain", "ns_gan", "mnist", "wide", [10.0, 12.0])
    inputs = ReportInputs(tables_of((trials, evaluation_rows(trials))))
    with pytest.raises(FigureSkipped, match="no trials with GAN-train / GAN-test values"):
        draw_figure("gan_train_vs_gan_test", inputs)
    with pytest.raises(FigureSkipped, match="no trials with a diversity curve"):
        draw_figure("diversity_curves", inputs)


def test_the_figures_are_registered_after_the_built_in_ones():
    from gan_study.analysis.figures import available_figures

    names = available_figures()
    assert names.index("gan_train_vs_gan_test") > names.index("learning_curves")
    assert names.index("diversity_curves") == names.index("gan_train_vs_gan_test") + 1


def test_a_report_on_gan_train_maximises_it_and_labels_it_even_when_the_study_optimised_fid(small_inputs):
    from gan_study.analysis.scores import score_spec
    from gan_study.analysis.style import metric_label

    trials = small_inputs.tables.trials
    assert set(trials["objective_name"]) == {"fid"}  # the studies optimised FID: the direction must come from us
    assert score_spec(trials, "gan_train").direction == "maximize"
    assert score_spec(trials, "gan_train_test_hmean", "final").direction == "maximize"
    assert metric_label("gan_train") == "GAN-train" and metric_label("gan_test") == "GAN-test"
