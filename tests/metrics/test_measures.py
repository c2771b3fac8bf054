"""Measures read from the `fid` metric's one pass: memorisation on real digits (a memory generator vs held-out
images), the values against the plain functions on the pass's features, FID-5K, options and objectives."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fid_testkit import SMALL_ENCODER, NoisySquares, brute_force_fid, fixed_latents, make_context
from labelled_digits import write_digits_as_mnist
from real_image_generators import index_latents
from gan_study.study.data import ImageSet, load_dataset
from gan_study.study.data.image_set import as_unit_float
from gan_study.study.metrics import EvalContext, build_metric
from gan_study.study.metrics.precision_recall import density_coverage, improved_precision_recall
from gan_study.study.metrics.prd import prd_curve
from gan_study.study.search.objective import resolve_objective

HALF = 250
ENCODER_TRAIN = SMALL_ENCODER["train_size"]  # the encoder learns from the first 400 training digits only


class Replay(torch.nn.Module):
    """A 'generator' that returns stored images: latent i gives image i (mod the pool)."""

    def __init__(self, images: torch.Tensor, noise: float = 0.0):
        super().__init__()
        self.images, self.noise = as_unit_float(images), noise

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        images = self.images[latents[:, 0].long() % len(self.images)]
        noise = torch.rand(images.shape, generator=torch.Generator().manual_seed(0))
        return (1 - self.noise) * images + self.noise * noise


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    return write_digits_as_mnist(tmp_path_factory.mktemp("digits"))


def digits_context(root: Path, cache_dir: Path, generator: torch.nn.Module, run_dir: Path) -> EvalContext:
    """The reference: the even-numbered test digits (250); the odd-numbered ones are held out for a generator."""
    test = load_dataset("mnist", root, "test")
    reference = ImageSet(test.images[0::2], test.labels[0::2], "mnist", "test")
    return EvalContext(generator=generator, sample_z=lambda n, rng: torch.zeros(n, 1), eval_latents=index_latents,
                       dataset_name="mnist", reference=reference, device=torch.device("cpu"),
                       cache_dir=cache_dir, eval_seed=0, data_root=root, run_dir=run_dir)


def test_a_memory_generator_gets_a_near_perfect_fid_and_is_flagged_held_out_images_are_not(digits, tmp_path):
    """Replaying training digits (ones the encoder never saw, as Inception never saw a GAN's training set) scores
    an FID as good as unseen real digits (FID is blind to copying), yet the memorisation test flags it (every
    sample at distance 0 from a training image: Z far below -3); returning held-out test digits gives Z within
    sampling noise of 0 and no flag."""
    metric = build_metric("fid", encoder="domain_classifier", encoder_options=SMALL_ENCODER, n_real=HALF,
                          n_generated=HALF, batch_size=128, measures={"memorisation": {}})
    train, test = load_dataset("mnist", digits, "train"), load_dataset("mnist", digits, "test")

    def evaluate(images: torch.Tensor, name: str, noise: float = 0.0) -> dict[str, float]:
        context = digits_context(digits, tmp_path / "cache", Replay(images, noise), tmp_path / name)
        return metric.evaluate(context)

    memory = evaluate(train.images[ENCODER_TRAIN:ENCODER_TRAIN + HALF], "memory")
    heldout = evaluate(test.images[1::2], "heldout")
    noisy = evaluate(test.images[1::2], "noisy", noise=0.5)
    fid = "fid_domain_classifier"
    assert memory[fid] < 1.5 * heldout[fid] and 3 * memory[fid] < noisy[fid]
    assert memory["memorisation_flag_domain_classifier"] == 1.0
    assert memory["memorisation_score_domain_classifier"] < -10
    assert heldout["memorisation_flag_domain_classifier"] == 0.0
    assert abs(heldout["memorisation_score_domain_classifier"]) < 3
    shown = np.load(tmp_path / "memory" / "measures" / "memorisation.npz")
    assert shown["samples"].shape == (8, 1, 28, 28) and shown["neighbours"].shape == (8, 3, 1, 28, 28)
    assert np.array_equal(shown["samples"], shown["neighbours"][:, 0])  # each replayed digit beside itself
    assert np.all(shown["sample_distances"] == 0) and bool(shown["flagged"])
    card = metric.card()["measures"]["memorisation"]
    assert card["n_train"] == len(train) and card["n_heldout"] == HALF and card["training_split"] == "mnist/train"


N = 300
MEASURES = {"precision_recall": {}, "density_coverage": {}, "prd": {"runs": 2}, "swd": {}}


def test_measure_values_are_the_functions_of_the_same_pass(metrics_cache, tmp_path):
    metric = build_metric("fid", encoder="domain_classifier", encoder_options=SMALL_ENCODER, n_real=N,
                          n_generated=N, batch_size=128, measures=MEASURES)
    generator = NoisySquares(0.3)
    context = make_context(generator, metrics_cache, data_root=tmp_path)
    context.run_dir = tmp_path / "run"
    values = metric.evaluate(context)
    real = metric.encoder.encode(context.reference.images[:N]).features
    fake = metric.encoder.encode(generator(fixed_latents()(N))).features
    precision, recall = improved_precision_recall(real, fake, 3)
    density, coverage = density_coverage(real, fake, 5)
    curve = prd_curve(real, fake, runs=2)
    suffix = "_domain_classifier"
    assert values["improved_precision" + suffix] == pytest.approx(precision, abs=2 / N)
    assert values["improved_recall" + suffix] == pytest.approx(recall, abs=2 / N)
    assert values["density" + suffix] == pytest.approx(density, abs=2 / N)
    assert values["coverage" + suffix] == pytest.approx(coverage, abs=2 / N)
    assert values["prd_f8" + suffix] == pytest.approx(curve.f_8, abs=0.02)
    assert values["prd_f1_8" + suffix] == pytest.approx(curve.f_1_8, abs=0.02)
    assert set(values) - {"fid" + suffix} == {name for name in metric.objectives if name in values} - {"fid" + suffix}
    assert {"swd_16", "swd_avg"} <= set(values) and values["swd_16"] == values["swd_avg"] > 0  # 16×16: one level
    saved = (tmp_path / "run" / "measures" / "prd.json").read_text()
    assert '"precision"' in saved and '"recall"' in saved
    assert metric.card()["measures"]["precision_recall"]["k"] == 3


def test_fid_5k_is_the_first_5000_of_each_side(metrics_cache, tmp_path):
    n = 5200
    metric = build_metric("fid", encoder="domain_classifier", encoder_options=SMALL_ENCODER, n_real=n,
                          n_generated=n, batch_size=500, fid_5k=True)
    generator = NoisySquares(0.3)
    context = make_context(generator, metrics_cache, n_reference=n, data_root=tmp_path)
    values = metric.evaluate(context)
    real = metric.encoder.encode(context.reference.images[:5000]).features.double().numpy()
    fake = metric.encoder.encode(generator(fixed_latents()(5000))).features.double().numpy()
    expected = brute_force_fid(real.mean(0), np.cov(real, rowvar=False), fake.mean(0), np.cov(fake, rowvar=False))
    assert values["fid_5k_domain_classifier"] == pytest.approx(expected, rel=1e-6)
    assert values["fid_5k_domain_classifier"] != values["fid_domain_classifier"]
    assert "FID-5K" in metric.card()["protocols"]["fid_5k_domain_classifier"]


def test_new_values_are_objectives_with_their_directions():
    eval_metrics = {"fid": {"measures": {**MEASURES, "memorisation": {}}, "fid_5k": True}}
    expected = {"improved_precision": "maximize", "improved_recall": "maximize", "density": "maximize",
                "coverage": "maximize", "prd_f8": "maximize", "prd_f1_8": "maximize", "swd_16": "minimize",
                "swd_32": "minimize", "swd_avg": "minimize", "memorisation_score": "maximize",
                "memorisation_flag": "minimize", "fid_5k": "minimize"}
    for name, direction in expected.items():
        assert resolve_objective({"metric": name}, eval_metrics).direction == direction


def test_is_card_names_the_salimans_protocol():
    metric = build_metric("fid", n_real=50000, n_generated=50000, inception_score=True, is_splits=10)
    assert "Salimans" in metric.card()["protocols"]["is"]
    assert "the paper" in build_metric("fid", inception_score=True).card()["protocols"]["is"]


@pytest.mark.parametrize("options, message", [
    ({"measures": {"nope": {}}}, "eval.metrics.fid.measures = 'nope' is not allowed: one of \\['density_coverage'"),
    ({"measures": {"prd": {"clusters": 1}}}, "measures.prd.clusters = 1 is not allowed"),
    ({"measures": {"precision_recall": {"kk": 3}}}, r"measures.precision_recall: unknown option\(s\) \['kk'\]"),
    ({"measures": {"memorisation": {"threshold": -1}}}, "measures.memorisation.threshold = -1 is not allowed"),
    ({"measures": ["prd"]}, "measures = \\['prd'\\] is not allowed"),
    ({"fid_5k": True, "n_real": 300}, "fid_5k = true is not allowed with n_real = 300"),
])
def test_bad_options_are_named_before_any_compute(options, message):
    with pytest.raises((ValueError, KeyError), match=message):
        build_metric("fid", **options)
