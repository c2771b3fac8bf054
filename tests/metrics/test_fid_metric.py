"""The registered `fid` metric end to end on the small domain encoder: its values against an independent
computation from the same encoder's features, the on-disk reference cache, NaN handling, options."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fid_testkit import SMALL_ENCODER, NoisySquares, fixed_latents, make_context, expected_fid
from gan_study.study.metrics import build_metric
from gan_study.study.metrics.inception_score import inception_score
from gan_study.study.metrics.kid import kernel_inception_distance
from gan_study.study.metrics.preprocess import quantize_to_uint8_levels

N = 300


def small_fid(**options):
    return build_metric("fid", encoder="domain_classifier", encoder_options=SMALL_ENCODER, n_real=N,
                        n_generated=N, batch_size=128, **options)


def test_fid_is_and_kid_match_an_independent_computation(metrics_cache, tmp_path):
    metric = small_fid(inception_score=True, kid=True, kid_subsets=3, kid_subset_size=100)
    generator = NoisySquares(0.3)
    context = make_context(generator, metrics_cache, data_root=tmp_path)
    values = metric.evaluate(context)
    assert set(values) == {"fid_domain_classifier", "is_domain_classifier", "kid_domain_classifier",
                           "kid_domain_classifier_std"}
    assert metric.objectives == {"fid_domain_classifier": "minimize", "is_domain_classifier": "maximize",
                                 "kid_domain_classifier": "minimize"}
    encoder = metric.encoder
    real = encoder.encode(context.reference.images[:N]).features
    fake = encoder.encode(generator(fixed_latents()(N)))
    assert values["fid_domain_classifier"] == expected_fid(real, fake.features)
    assert values["is_domain_classifier"] == pytest.approx(inception_score(fake.logits)[0], rel=1e-9)
    kid, kid_sd = kernel_inception_distance(real, fake.features, 3, 100, seed=0)
    assert values["kid_domain_classifier"] == pytest.approx(kid, rel=1e-6, abs=1e-12)
    assert values["kid_domain_classifier_std"] == pytest.approx(kid_sd, rel=1e-6, abs=1e-12)
    card = metric.card()
    assert card["encoder"] == "domain_classifier" and card["comparable_to_paper"] is False
    assert card["n_real"] == N and card["n_generated"] == N and card["eval_seed"] == 42
    assert card["reference"]["split"] == "test" and card["reference"]["first_n"] == N
    assert set(card["library_versions"]) >= {"torch", "pytorch-fid"}
    assert "eigvalsh" in card["sqrt_method"] and card["kid"]["subsets"] == 3


def test_a_worse_generator_gets_a_larger_fid(metrics_cache, tmp_path):
    metric = small_fid()
    close = metric.evaluate(make_context(NoisySquares(0.1), metrics_cache, data_root=tmp_path))
    far = metric.evaluate(make_context(NoisySquares(0.8), metrics_cache, data_root=tmp_path))
    assert far["fid_domain_classifier"] > 2 * close["fid_domain_classifier"] > 0


def test_quantisation_feeds_8_bit_levels(metrics_cache, tmp_path):
    generator = NoisySquares(0.3)
    context = make_context(generator, metrics_cache, data_root=tmp_path)
    plain = small_fid().evaluate(context)["fid_domain_classifier"]
    metric = small_fid(quantize=True)
    quantized = metric.evaluate(context)["fid_domain_classifier"]
    real = metric.encoder.encode(context.reference.images[:N]).features
    fake = metric.encoder.encode(quantize_to_uint8_levels(generator(fixed_latents()(N)))).features
    assert quantized == expected_fid(real, fake)
    assert quantized != plain
    assert "rounded to 8-bit" in metric.card()["quantize"]


def test_second_evaluation_reads_the_disk_cache_and_corruption_is_recomputed(tmp_path):
    cache_dir, generator = tmp_path / "cache", NoisySquares(0.3)
    first = small_fid()
    value = first.evaluate(make_context(generator, cache_dir, data_root=tmp_path))["fid_domain_classifier"]
    (reference_cache,) = first.references.values()
    assert reference_cache.feature_passes == 1
    files = sorted((cache_dir / "reference_statistics").glob("*.npz"))
    assert len(files) == 1 and files[0].name.startswith("metrics_test_squares-test-n300-domain_classifier-")
    written = files[0].stat().st_mtime_ns

    second = small_fid()  # a new instance (a new worker): only the disk cache can help it
    assert second.evaluate(make_context(generator, cache_dir, data_root=tmp_path))["fid_domain_classifier"] == value
    (cache,) = second.references.values()
    assert (cache.feature_passes, cache.store.hits, cache.store.corrupt) == (0, 1, 0)
    assert files[0].stat().st_mtime_ns == written

    data = bytearray(files[0].read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip one byte inside the stored arrays
    files[0].write_bytes(bytes(data))
    third = small_fid()
    assert third.evaluate(make_context(generator, cache_dir, data_root=tmp_path))["fid_domain_classifier"] == \
        pytest.approx(value, rel=1e-12)
    (cache,) = third.references.values()
    assert (cache.feature_passes, cache.store.corrupt) == (1, 1)
    assert cache.store.load(files[0].name.rsplit("-", 1)[0], {**cache.key(make_context(
        generator, cache_dir).reference.head(N), third.encoder), "kind": "statistics"}) is not None  # rewritten, intact


def test_a_nan_generator_gives_nan_values(metrics_cache, tmp_path):
    class Broken(torch.nn.Module):
        def forward(self, z):
            return torch.full((len(z), 1, 16, 16), math.nan)

    values = small_fid(inception_score=True).evaluate(make_context(Broken(), metrics_cache, data_root=tmp_path))
    assert set(values) == {"fid_domain_classifier", "is_domain_classifier"}
    assert all(math.isnan(v) for v in values.values())


def test_inception_defaults_are_the_papers_protocol():
    metric = build_metric("fid")
    assert metric.objectives == {"fid": "minimize"}
    assert (metric.n_real, metric.n_generated, metric.quantize, metric.encoder.name) == (10000, 10000, False,
                                                                                         "inception")
    assert metric.encoder.resize == "tf1"
    assert build_metric("fid", inception_score=True, kid=True).objectives == {"fid": "minimize", "is": "maximize",
                                                                            "kid": "minimize"}


@pytest.mark.parametrize("options, message", [
    ({"n_real": 1}, "n_real = 1 is not allowed"),
    ({"quantize": "yes"}, "quantize = 'yes' is not allowed: true or false"),
    ({"kid": True, "n_generated": 500}, "kid_subset_size = 1000 is not allowed: at most min"),
    ({"inception_score": True, "is_splits": 0}, "is_splits = 0 is not allowed"),
    ({"encoder": "clip"}, "encoder = 'clip' is not allowed"),
    ({"n_images": 5}, r"unknown option\(s\) \['n_images'\]; allowed: \['encoder', 'encoder_options', 'n_real'"),
    ({"encoder": "domain_classifier", "encoder_options": {"task": "colour"}}, "task = 'colour' is not allowed"),
])
def test_bad_options_are_rejected_before_any_compute(options, message):
    with pytest.raises(ValueError, match=message):
        build_metric("fid", **options)


def test_domain_classifier_needs_the_training_split(metrics_cache):
    with pytest.raises(ValueError, match="needs the data set's training split"):
        small_fid().evaluate(make_context(NoisySquares(0.3), metrics_cache, data_root=None))


def test_domain_classifier_uses_rotation_without_informative_labels(tmp_path):
    from fid_testkit import squares
    from gan_study.study.metrics.encoders import EncoderSetup, build_encoder

    unlabelled = squares(200, seed=5)
    unlabelled.labels = torch.full((200,), 3)  # Triangles: every label is 3
    encoder = build_encoder("domain_classifier", **SMALL_ENCODER)
    encoder.prepare(EncoderSetup(torch.device("cpu"), tmp_path, "constant_labels", lambda: unlabelled))
    assert encoder.task == "rotation" and encoder.network.head.out_features == 4
    assert encoder.encode(unlabelled.images[:5]).features.shape == (5, 16)
    strict = build_encoder("domain_classifier", task="labels", **SMALL_ENCODER)
    with pytest.raises(ValueError, match="task = 'labels' needs at least two distinct labels"):
        strict.prepare(EncoderSetup(torch.device("cpu"), tmp_path, "constant_labels", lambda: unlabelled))
    assert np.isfinite(encoder.encode(unlabelled.images[:5]).logits.numpy()).all()


def test_a_user_encoder_registers_like_the_built_ins(metrics_cache, tmp_path):
    """A registered FeatureExtractor without logits: FID works with it, IS is refused at configuration time."""
    from gan_study.study.metrics.encoders import Encoded, FeatureExtractor, available_encoders, register_encoder

    if "test_pixel_moments" not in available_encoders():
        @register_encoder("test_pixel_moments")
        class PixelMoments(FeatureExtractor):
            def prepare(self, setup):
                pass

            def encode(self, images):
                flat = images.flatten(1)
                return Encoded(torch.stack([flat.mean(1), flat.std(1), flat.max(1).values], dim=1))

            has_logits = False
            identity = "test_pixel_moments-v1"

            def card(self):
                return {"encoder": self.name}

    with pytest.raises(ValueError, match="inception_score = true is not allowed with encoder 'test_pixel_moments'"):
        build_metric("fid", encoder="test_pixel_moments", inception_score=True)
    metric = build_metric("fid", encoder="test_pixel_moments", n_real=N, n_generated=N)
    context = make_context(NoisySquares(0.3), metrics_cache)
    value = metric.evaluate(context)["fid_test_pixel_moments"]
    real = metric.encoder.encode(context.reference.images[:N]).features
    fake = metric.encoder.encode(NoisySquares(0.3)(fixed_latents()(N))).features
    assert value == expected_fid(real, fake)


def test_uint8_references_are_read_as_their_float_values(metrics_cache, tmp_path):
    """8-bit reference images (MNIST, CIFAR10, CelebA) enter the network as x/255, like the same set in float."""
    from gan_study.study.data import ImageSet

    context = make_context(NoisySquares(0.3), metrics_cache, data_root=tmp_path)
    as_bytes = (context.reference.images * 255).round().to(torch.uint8)
    context.reference = ImageSet(as_bytes, context.reference.labels, context.reference.name, "test")
    from_bytes = small_fid().evaluate(context)["fid_domain_classifier"]
    context.reference = ImageSet(as_bytes.float() / 255, context.reference.labels, context.reference.name, "test")
    assert small_fid().evaluate(context)["fid_domain_classifier"] == from_bytes
