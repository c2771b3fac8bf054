"""Figures drawn from studies of known structure: the right panels, models, budgets and values (matplotlib objects)."""
from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from saved_figures import pdf_page_in_pixels, pixels_of_colour
from synthetic_studies import evaluation_rows, tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, available_figures, draw_figure, get_figure, register_figure
from gan_study.analysis.figures.budget import draw_budget_curves
from gan_study.analysis.figures.registry import FIGURES
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.analysis.scores import BudgetOptions, ScoreSpec
from gan_study.analysis.style import MODEL_COLORS, ModelPalette, model_color, save_figure

N = 10


@pytest.fixture(scope="module")
def ordered_study() -> ReportInputs:
    """On MNIST, ns_gan is strictly better than wgan_gp at every trial; hinge_gan (a new loss) in between.
    Trial 3 of wgan_gp and trial 1 of hinge_gan diverged; the first trial of each is its default, hinge_gan's
    outside the search space."""
    rng = np.random.default_rng(5)
    scores = {"ns_gan": rng.uniform(10, 20, N), "wgan_gp": rng.uniform(30, 40, N), "hinge_gan": rng.uniform(20, 30, N)}
    statuses = {"ns_gan": ["completed"] * N, "wgan_gp": ["completed"] * 3 + ["diverged"] + ["completed"] * 6,
                "hinge_gan": ["completed", "diverged"] + ["completed"] * 8}
    parts = []
    for index, (model, values) in enumerate(scores.items()):
        trials = trial_rows("ordered", model, "mnist", "wide", values, statuses[model], first_trial=index * N,
                            params={"lr": 10 ** rng.uniform(-5, -2, N), "beta1": rng.uniform(0, 1, N),
                                    "n_disc": rng.choice([1, 5], N)})
        trials["default_outside_space"] = trials["is_default"] & (model == "hinge_gan")
        parts.append((trials, evaluation_rows(trials)))
    return ReportInputs(tables_of(*parts), ReportOptions(budget=BudgetOptions(resamples=400)))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def lines_by_model(ax) -> dict[str, object]:
    return {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}


def test_budget_figure_shows_every_model_and_budget_in_order(ordered_study, tmp_path):
    fig = draw_figure("budget_wide", ordered_study)
    (ax,) = fig.axes
    lines = lines_by_model(ax)
    assert list(lines) == ["ns_gan", "wgan_gp", "hinge_gan"]  # the paper's order, then new losses
    for line in lines.values():
        assert np.array_equal(line.get_xdata(), np.arange(1, N + 1))
    better, worse = (np.asarray(lines[m].get_ydata(), float) for m in ("ns_gan", "wgan_gp"))
    finite = np.isfinite(better) & np.isfinite(worse)
    assert finite[N // 2:].all() and np.all(better[finite] < worse[finite])
    assert lines["hinge_gan"].get_color() == model_color("hinge_gan")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["NS GAN", "WGAN GP", "hinge_gan"]
    assert ax.get_yscale() == "log" and "min FID" in ax.get_ylabel()
    paths = save_figure(fig, tmp_path, "budget_wide")
    png = Image.open(paths["png"])
    assert png.info["dpi"] == pytest.approx((150, 150), abs=0.1)
    for model in ("ns_gan", "wgan_gp", "hinge_gan"):  # each curve is in the picture; a model not in the study is not
        assert pixels_of_colour(png, model_color(model)) > 300
    assert pixels_of_colour(png, MODEL_COLORS["wgan"]) == 0
    assert np.allclose(pdf_page_in_pixels(paths["pdf"], 150), png.size, rtol=0.03)  # the same crop


def test_the_budget_axis_ticks_whole_numbers_of_trials_only():
    frame = pd.DataFrame({"model": "ns_gan", "k": [1, 2, 3], "mean": [3.0, 2.0, 1.5], "lower": [2.0, 1.5, 1.2],
                          "upper": [4.0, 2.5, 1.8], "p_all_diverged": 0.0})
    ax = plt.figure().add_subplot()
    draw_budget_curves(ax, frame, ScoreSpec("fid"))
    low, high = ax.get_xlim()
    assert [t for t in ax.get_xticks() if low <= t <= high] == [1, 2, 3]  # never k = 1.5 or 2.5


def test_budget_curve_is_dotted_while_all_trials_may_have_diverged(ordered_study):
    ax = draw_figure("budget_wide", ordered_study).axes[0]
    solid = np.asarray(lines_by_model(ax)["wgan_gp"].get_ydata(), float)
    # One of 10 wgan_gp trials diverged: P(all k diverged) = 0.1^k > 5% only at k = 1, so k = 1 is dotted.
    assert np.isnan(solid[0]) and np.isfinite(solid[1:]).all()
    assert np.isfinite(np.asarray(lines_by_model(ax)["ns_gan"].get_ydata(), float)).all()


def test_distribution_boxes_mark_defaults_and_divergence(ordered_study):
    ax = draw_figure("wide_distributions", ordered_study).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["NS GAN", "WGAN GP", "hinge_gan"]
    trials = ordered_study.tables.trials
    stars = [line for line in ax.get_lines() if line.get_gid() == "default"]
    defaults = trials[trials["is_default"]].set_index("model")["best_fid"]
    assert [line.get_ydata()[0] for line in stars] == [defaults[m] for m in ("ns_gan", "wgan_gp", "hinge_gan")]
    assert [line.get_markerfacecolor() for line in stars] == ["black", "black", "white"]  # hollow: outside
    diverged = {t.xy[0]: t.get_text() for t in ax.texts if t.get_gid() == "diverged"}
    assert diverged == {2: "1×", 3: "1×"}
    boxes = [p for p in ax.patches if p.get_gid()]
    assert [b.get_gid() for b in boxes] == ["ns_gan", "wgan_gp", "hinge_gan"]


def test_exact_mean_in_the_curves_table_is_the_mean_best_over_every_possible_draw(ordered_study):
    """Known answer by enumeration: the N^k equally likely draws of k wgan_gp trials (with replacement), those
    holding a measured trial, the best FID of each; trial 3 diverged."""
    frame = ordered_study.budget(ordered_study.spec(), "wide")
    trials = ordered_study.tables.trials
    wgan_gp = trials[trials["model"] == "wgan_gp"]
    fid = wgan_gp["best_fid"].where(wgan_gp["status"] == "completed").to_numpy()  # NaN: diverged
    rows = frame[frame["model"] == "wgan_gp"].set_index("k")
    for k in (1, 2, 3, 4):
        draws = fid[np.array(list(itertools.product(range(N), repeat=k)))]
        measured = draws[~np.isnan(draws).all(axis=1)]
        assert rows.loc[k, "exact_mean"] == pytest.approx(np.nanmin(measured, axis=1).mean(), rel=1e-12)
    p = 0.1 ** np.arange(1, N + 1)
    assert np.all(np.abs(rows["p_all_diverged"] - p) <= 4 * np.sqrt(p * (1 - p) / 400) + 1e-9)  # bootstrap, B = 400


def test_seed_figure_draws_mean_and_sd_of_the_measured_seeds(small_inputs):
    fig = draw_figure("seeds", small_inputs)
    (ax,) = fig.axes
    trials = small_inputs.tables.trials
    seeds = trials[trials["seed_study"] & (trials["status"] == "completed")]
    drawn: dict[str, list[float]] = {}  # per model: the mean marker, then the two error-bar caps
    for line in ax.get_lines():
        if line.get_gid():
            drawn.setdefault(line.get_gid(), []).append(float(line.get_ydata()[0]))
    for model in ("ns_gan", "wgan_gp", "hinge_gan"):
        fid = seeds.loc[seeds["model"] == model, "best_fid"]
        mean, sd = fid.mean(), fid.std(ddof=1)
        assert drawn[model] == pytest.approx([mean, mean - sd, mean + sd])
    assert [t.get_text() for t in ax.texts if t.get_gid() == "diverged"] == ["1×"]  # last ns_gan seed diverged


def test_triangles_figure_reads_precision_and_recall_at_the_best_f1_evaluation(small_inputs):
    fig = draw_figure("triangles_precision_recall", small_inputs)
    scatter, budget = fig.axes
    evaluations = small_inputs.tables.evaluations
    completed = small_inputs.tables.trials.query("status == 'completed'")[["study", "trial"]]
    tri = evaluations.merge(completed).query("dataset == 'triangles' and model == 'wgan_gp'")
    best = tri.loc[tri.groupby("trial")["f1"].idxmax()]
    points = next(c for c in scatter.collections if c.get_gid() == "wgan_gp").get_offsets()
    assert np.allclose(sorted(map(tuple, points)), sorted(zip(best["precision"], best["recall"])))
    f1 = np.asarray(lines_by_model(budget)["wgan_gp"].get_ydata(), float)
    f1 = f1[np.isfinite(f1)]
    assert np.all(np.diff(f1) >= -1e-12)  # F1 is maximised: the best of more trials is never worse
    assert "max F1" in budget.get_ylabel()


def test_learning_curves_are_the_median_over_trials(small_inputs):
    fig = draw_figure("learning_curves", small_inputs)
    ax = fig.axes[0]  # MNIST
    evaluations = small_inputs.tables.evaluations
    trials = small_inputs.tables.trials
    wide = trials[(trials["search"] == "wide") & ~trials["seed_study"] & trials["measured"]]
    mnist = evaluations.merge(wide[["study", "trial"]])
    mnist = mnist[(mnist["dataset"] == "mnist") & (mnist["model"] == "hinge_gan")]
    expected = mnist.groupby("step")["fid"].median()
    line = lines_by_model(ax)["hinge_gan"]
    assert np.array_equal(line.get_xdata(), expected.index) and np.allclose(line.get_ydata(), expected.to_numpy())


def test_sensitivity_of_one_data_set_has_the_hyperparameters_side_by_side_and_log_learning_rate(ordered_study):
    fig = draw_figure("sensitivity", ordered_study)
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert labels == ["learning rate", "Adam β1", "n_disc (D steps per G step)"]
    fig.canvas.draw()
    boxes = [ax.get_position() for ax in fig.axes]
    assert len({round(box.y0, 3) for box in boxes}) == 1 and boxes[0].x0 < boxes[1].x0 < boxes[2].x0  # one row
    assert fig.axes[0].get_xscale() == "log" and fig.axes[1].get_xscale() == "linear"
    assert [t.get_text() for t in fig.axes[2].get_xticklabels()] == ["1", "5"]


def test_mode_dropping_curve_is_the_mean_over_repeats(small_inputs):
    fig = draw_figure("mode_dropping", small_inputs)
    ax = fig.axes[0]
    fid = next(line for line in ax.get_lines() if (line.get_gid() or "").startswith("fid"))
    assert np.array_equal(fid.get_xdata(), np.arange(1, 11))
    assert np.allclose(fid.get_ydata(), 20.0 * (10 - np.arange(1, 11)) + 1.0)  # repeats add 0, 1, 2


@pytest.mark.parametrize("name, reason", [
    ("budget_narrow", "no completed or diverged trials of a 'narrow' search"),
    ("seeds", "no seed study"),
    ("triangles_precision_recall", "no triangles trials"),
    ("mode_dropping", "no mode-dropping table"),
])
def test_figures_without_their_data_are_skipped_with_the_reason(ordered_study, name, reason):
    with pytest.raises(FigureSkipped, match=reason):
        draw_figure(name, ordered_study)


def test_a_registered_figure_is_drawn_like_the_built_in_ones(ordered_study):
    def trial_count(inputs: ReportInputs, colour: str):
        fig, ax = plt.subplots()
        ax.bar([0], [len(inputs.tables.trials)], color=colour)
        return fig

    try:
        register_figure("trial_count", title="Trials", colour="black")(trial_count)
        assert "trial_count" in available_figures()
        bar = draw_figure("trial_count", ordered_study).axes[0].patches[0]
        assert bar.get_height() == 3 * N
        with pytest.raises(ValueError, match="already registered"):
            register_figure("trial_count", title="again")(lambda inputs: None)
    finally:
        FIGURES.entries.pop("trial_count", None)
    with pytest.raises(ValueError, match=r"figures = 'trial_count' is not allowed: one of \['augmentation_utility'"):
        get_figure("trial_count")
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        register_figure("two words", title="x")


def test_a_figure_returning_none_is_skipped(ordered_study):
    try:
        register_figure("nothing", title="Nothing")(lambda inputs: None)
        with pytest.raises(FigureSkipped, match="data it needs are absent"):
            draw_figure("nothing", ordered_study)
    finally:
        FIGURES.entries.pop("nothing", None)


def test_new_models_get_a_stable_colour_of_their_own():
    assert ModelPalette()("hinge_gan") == "#17becf"  # the same in every run: not Python's per-process str hash
    assert model_color("hinge_gan") not in MODEL_COLORS.values()
    assert model_color("ns_gan") == MODEL_COLORS["ns_gan"]
    assert len({model_color(f"loss_{i}") for i in range(40)}) > 5
    assert isinstance(pd.Series(["x"]).map(model_color)[0], str)


def cielab(color: str) -> np.ndarray:
    """sRGB hex -> CIELAB (D65): distances in it are distances the eye sees (ΔE)."""
    rgb = np.array(plt.matplotlib.colors.to_rgb(color))
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    f = np.cbrt(np.where(xyz / [0.95047, 1.0, 1.08883] > 0.008856, xyz / [0.95047, 1.0, 1.08883], np.nan))
    f = np.where(np.isnan(f), 7.787 * xyz / [0.95047, 1.0, 1.08883] + 16 / 116, f)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_every_model_of_a_report_gets_a_distinct_colour_for_any_number_of_models():
    palette = ModelPalette()
    plugins = [f"loss_{i}" for i in range(60)]
    colors = [palette(name) for name in [*MODEL_COLORS, *plugins]]
    assert len(set(colors)) == 68
    first = colors[:20]  # the built-ins and the first 12 plugins: apart as the eye sees them, not only as hex
    assert min(np.linalg.norm(cielab(a) - cielab(b)) for a, b in itertools.combinations(first, 2)) > 25
    # loss_6 picks slot 7, where mm_gan's blue had a twin (#3182bd, ΔE 4.6 from #1f77b4)
    assert np.linalg.norm(cielab(palette("loss_6")) - cielab(MODEL_COLORS["mm_gan"])) > 25


def test_a_new_models_colour_is_the_same_in_every_report_and_a_clash_moves_the_later_one():
    alone, crowded = ModelPalette(), ModelPalette()
    for name in ("zeta_gan", "ns_gan", "alpha_gan"):
        crowded(name)
    assert crowded("hinge_gan") == alone("hinge_gan") == "#17becf"
    clash = next(f"loss_{i}" for i in range(100) if ModelPalette()(f"loss_{i}") == "#17becf")
    assert alone(clash) != "#17becf" and alone("hinge_gan") == "#17becf"
