"""GAN-train / GAN-test on real digits, with "generators" whose answers are known: chance for one that ignores
the label, the real classifier's accuracy for one that returns real images of the requested class."""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from labelled_digits import TRAIN_SIZE, write_digits_as_mnist
from omegaconf import OmegaConf
from real_image_generators import LabelBlindGenerator, digits_context, exemplar_context

from gan_study.study.config import ConfigError, validate
from gan_study.study.data import ImageSet, load_dataset
from gan_study.study.metrics import build_metric, get_metric
from gan_study.study.metrics.gan_train_test import diversity_curve, harmonic_mean, write_diversity_curve
from gan_study.study.search.plan import plan_search

CONF = Path(__file__).resolve().parents[2] / "conf"
SMALL = {"width": 8, "epochs": 6, "batch_size": 32, "lr": 0.05}
"""A small convnet recipe: seconds on one CPU core, ~0.9 accuracy on the digits."""
TEST_SIZE = 1797 - TRAIN_SIZE


def binomial_sd(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """scikit-learn's 1,797 real handwritten digits as MNIST files: 1,297 train, 500 test."""
    return write_digits_as_mnist(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One classifier cache for the module: the real classifier is trained once."""
    return tmp_path_factory.mktemp("classifier_cache")


def test_a_generator_that_ignores_the_label_scores_chance_on_gan_test(digits, cache):
    train = load_dataset("mnist", digits, "train")
    context = digits_context(digits, cache, LabelBlindGenerator(train, seed=0))
    metric = build_metric("gan_train_test", classifier=SMALL, n_train=200, n_test=TRAIN_SIZE)
    values = metric.evaluate(context)
    # Image i is a uniformly permuted training image: its class matches the requested i mod 10 with p = 1/10,
    # whatever the classifier, so GAN-test ~ Binomial(1297, 0.1) / 1297 (sd 0.0083); 4 sd either side.
    assert abs(values["gan_test"] - 0.1) <= 4 * binomial_sd(0.1, TRAIN_SIZE)
    assert values["real_accuracy"] > 0.8  # while the same classifier does recognise real digits


def test_real_images_of_the_requested_class_score_the_real_accuracy_on_gan_test(digits, cache):
    train = load_dataset("mnist", digits, "train")
    held_out = ImageSet(train.images[797:], train.labels[797:], train.name, train.split)  # never seen in training
    context = exemplar_context(digits, cache, held_out)
    metric = build_metric("gan_train_test", classifier=SMALL, train_size=797, n_train=200, n_test=500)
    values = metric.evaluate(context)
    p = values["real_accuracy"]
    # Two independent samples of unseen digits (500 held-out training images, 500 test images) classified by one
    # network: the difference of the two accuracies has sd sqrt(p(1-p)(1/500 + 1/500)); 4 sd.
    assert abs(values["gan_test"] - p) <= 4 * math.sqrt(p * (1 - p) * (2 / 500))
    assert p > 0.8


def test_gan_train_of_real_training_images_is_the_real_classifiers_accuracy(digits, cache):
    context = exemplar_context(digits, cache)
    values = build_metric("gan_train_test", classifier=SMALL, n_test=500).evaluate(context)
    p = values["real_accuracy"]
    # Both classifiers learn from (nearly) the same 1,297 real images in another order and are tested on the same
    # 500 test images: what differs is training noise; allowed: 3 binomial sd of one accuracy on 500 images.
    assert abs(values["gan_train"] - p) <= 3 * binomial_sd(p, TEST_SIZE)
    assert values["gan_test"] > 0.95  # its own training images, requested by class: almost all recognised
    assert values["gan_train_test_hmean"] == pytest.approx(harmonic_mean(values["gan_train"], values["gan_test"]))


def test_harmonic_mean_by_hand():
    assert harmonic_mean(0.9, 0.6) == pytest.approx(0.72)  # 2·0.54 / 1.5
    assert harmonic_mean(0.5, 0.5) == 0.5 and harmonic_mean(1.0, 0.0) == 0.0 and harmonic_mean(0.0, 0.0) == 0.0


def test_diversity_curve_of_real_images_and_its_csv(digits, cache, tmp_path):
    context = exemplar_context(digits, cache)
    rows = diversity_curve(context, [40, 400], classifier=SMALL, n_test=100)
    assert [(r["n"], r["source"]) for r in rows] == [(40, "generated"), (40, "real"), (400, "generated"),
                                                    (400, "real")]
    accuracy = {(r["n"], r["source"]): r["accuracy"] for r in rows}
    for source in ("generated", "real"):
        assert accuracy[(400, source)] > accuracy[(40, source)]
    # Four examples per class versus forty: both curves rise; at n = 400 real and "generated" (real too) agree
    # within 4 binomial sd on the 500 test images.
    p = accuracy[(400, "real")]
    assert abs(accuracy[(400, "generated")] - p) <= 4 * binomial_sd(p, TEST_SIZE)
    path = write_diversity_curve(rows, tmp_path / "curve.csv")
    with path.open() as stream:
        table = list(csv.DictReader(stream))
    assert [(int(r["n"]), r["source"], float(r["accuracy"])) for r in table] == [
        (r["n"], r["source"], r["accuracy"]) for r in rows]


def test_curve_values_are_declared_objectives_and_the_card_names_the_classifier(digits, cache):
    metric = build_metric("gan_train_test", classifier=SMALL, n_train=100, n_test=100, diversity_curve=[50, 100])
    assert metric.objectives == {name: "maximize" for name in (
        "gan_train", "gan_test", "gan_train_test_hmean", "real_accuracy",
        "gan_train_n50", "real_train_n50", "gan_train_n100", "real_train_n100")}
    values = metric.evaluate(exemplar_context(digits, cache))
    assert set(values) == set(metric.objectives)
    assert values["gan_train_n100"] == values["gan_train"]  # one classifier: n = n_train
    card = metric.card()
    assert card["classifier"]["architecture"] == "convnet"
    assert card["classifier"]["parameters"] == 25_154  # 378·8² + 9·8 + 30·8 + 8·8·10 + 10 (test_classifiers)
    assert card["real_classifier"]["trained_on"]["n"] == TRAIN_SIZE
    assert re.fullmatch(r"[0-9a-f]{64}", card["real_classifier"]["weights_sha256"])
    assert card["reference"] == {"dataset": "mnist", "split": "test", "first_n": TEST_SIZE}


def test_an_unconditional_run_is_refused_at_evaluation_and_already_at_validation(digits, cache):
    context = exemplar_context(digits, cache)
    context.conditional_generator = None
    metric = build_metric("gan_train_test", classifier=SMALL)
    with pytest.raises(ValueError, match=re.escape("gan_train_test needs a class-conditional run")):
        metric.evaluate(context)
    overrides = ["dataset=mnist", "eval=none", "+eval.metrics.gan_train_test={}", "train=tiny"]
    with pytest.raises(ConfigError, match=re.escape("eval.metrics = 'gan_train_test' is not allowed: with "
                                                    "conditional.enabled=false only metrics of unconditional runs")):
        validate(compose_config("config", overrides))
    assert validate(compose_config("config", [*overrides, "conditional.enabled=true"])).conditional.enabled
    with pytest.raises(ConfigError, match=r"conditional\.enabled = True is not allowed: data set 'triangles' has "
                                          r"no class labels"):
        validate(compose_config("config", ["dataset=triangles", "eval=none", "+eval.metrics.gan_train_test={}",
                                           "train=tiny", "conditional.enabled=true"]))


@pytest.mark.parametrize("options, message", [
    ({"n_test": 0}, "n_test = 0 is not allowed: an integer >= 1"),
    ({"n_train": 1}, "n_train = 1 is not allowed: an integer >= 2"),
    ({"diversity_curve": "100"}, "diversity_curve = '100' is not allowed: a list of image counts >= 2"),
    ({"diversity_curve": [100, 1]}, "diversity_curve[] = 1 is not allowed: an integer >= 2"),
    ({"classifier": {"lr": 0}}, "classifier.lr = 0 is not allowed: a finite number > 0"),
    ({"n_generated": 10}, "unknown option(s) ['n_generated']; allowed: ['n_train', 'n_test', 'n_reference',"),
])
def test_bad_options_are_refused_naming_field_value_and_allowed(options, message):
    with pytest.raises(ValueError) as error:
        build_metric("gan_train_test", **options)
    assert message in str(error.value)


def compose_config(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name=name, overrides=overrides)


def test_bad_options_in_a_run_config_are_a_config_error_before_any_compute():
    cfg = compose_config("config", ["eval=none", "+eval.metrics.gan_train_test={classifier:{epochs:-2}}"])
    with pytest.raises(ConfigError, match=re.escape(
            "eval.metrics.gan_train_test: classifier.epochs = -2 is not allowed: an integer >= 1")):
        validate(cfg)


@pytest.mark.parametrize("objective", ["gan_train", "gan_test", "gan_train_test_hmean"])
def test_a_study_can_maximise_gan_train_gan_test_or_their_harmonic_mean(objective, tmp_path):
    cfg = compose_config("sweep", ["model=wgan_gp", "dataset=mnist", "conditional.enabled=true", "eval=none",
                                   "+eval.metrics.gan_train_test={}",
                                   f"objective.metric={objective}", "n_trials=2", f"runs_root={tmp_path}"])
    plan = plan_search(OmegaConf.to_container(cfg, resolve=True), f"journal:{tmp_path / 'j'}")
    assert (plan.spec.objective.metric, plan.spec.objective.direction) == (objective, "maximize")
    assert get_metric("gan_train_test").objectives[objective] == "maximize"
