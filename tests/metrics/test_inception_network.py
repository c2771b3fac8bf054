"""The FID Inception through the real lookup path: random weights saved as the released file (a state_dict
.pth with the real key names) in torch hub's cache, found, hash-checked, loaded strictly, run on 2 images."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_study.study.metrics.encoders import EncoderSetup, build_encoder
from gan_study.study.metrics.encoders.inception import fid_inception_v3, pool3_features
from gan_study.study.metrics.preprocess import inception_input
from gan_study.study.metrics.weights import KNOWN_WEIGHTS, MissingWeightsError, sha256_of

RELEASED = KNOWN_WEIGHTS["inception"]


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> tuple[Path, dict]:
    """torch hub home holding random FID-Inception weights under the released file name."""
    home = tmp_path_factory.mktemp("torch_home")
    torch.manual_seed(0)
    state = fid_inception_v3().state_dict()
    path = home / "hub" / "checkpoints" / RELEASED.filename
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    return home, state


def setup(tmp_path: Path) -> EncoderSetup:
    return EncoderSetup(torch.device("cpu"), tmp_path, "test")


def test_release_file_name_and_hash_prefix():
    assert RELEASED.filename == "pt_inception-2015-12-05-6726825d.pth"
    assert RELEASED.hash_prefix == "6726825d"
    assert KNOWN_WEIGHTS["vgg16"].hash_prefix == "397923af"


def test_random_weights_load_through_torch_hub_cache_and_give_2048_features(random_weights, monkeypatch, tmp_path):
    home, state = random_weights
    monkeypatch.setenv("TORCH_HOME", str(home))
    path = home / "hub" / "checkpoints" / RELEASED.filename
    # The file is not the release, so its SHA-256 does not start with 6726825d: the default check refuses it...
    with pytest.raises(ValueError, match="does not start with the expected '6726825d'"):
        build_encoder("inception").prepare(setup(tmp_path))
    # ...and accepts it when told the prefix of this file.
    encoder = build_encoder("inception", weights_sha256_prefix=sha256_of(path)[:8])
    encoder.prepare(setup(tmp_path))
    images = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    encoded = encoder.encode(images)
    assert encoded.features.shape == (2, 2048) and encoded.logits.shape == (2, 1008)
    assert torch.isfinite(encoded.features).all()
    assert torch.equal(encoder.network.fc.weight, state["fc.weight"])  # the file's weights, not an init
    card = encoder.card()
    assert card["weights_sha256"] == sha256_of(path) and card["weights_path"] == str(path)
    assert encoder.identity.startswith(f"inception-{sha256_of(path)[:16]}-resize_tf1")
    # unbiased logits (default) are pool3 · W^T; biased ones add fc.bias
    torch.testing.assert_close(encoded.logits, encoded.features @ state["fc.weight"].T)
    biased = build_encoder("inception", logits="biased", weights_sha256_prefix="")
    biased.prepare(setup(tmp_path))
    torch.testing.assert_close(biased.encode(images).logits, encoded.logits + state["fc.bias"])


def test_our_assembly_computes_pytorch_fids_pool3(random_weights, monkeypatch):
    """pytorch-fid's own InceptionV3 (its download replaced by our random state_dict) gives the same pool3."""
    import pytorch_fid.inception as pf

    _, state = random_weights
    monkeypatch.setattr(pf, "load_state_dict_from_url", lambda *args, **kwargs: state)
    theirs = pf.InceptionV3([3], resize_input=False, normalize_input=False).eval()
    ours = fid_inception_v3()
    ours.load_state_dict(state)
    ours.eval()
    x = inception_input(torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2)))
    with torch.no_grad():
        torch.testing.assert_close(pool3_features(ours, x), theirs(x)[0].flatten(1))


def test_configured_path_is_searched_first(random_weights, monkeypatch, tmp_path):
    home, _ = random_weights
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_home"))
    folder = home / "hub" / "checkpoints"
    encoder = build_encoder("inception", weights_path=str(folder), weights_sha256_prefix="")
    encoder.prepare(setup(tmp_path))
    assert encoder.weights_file == folder / RELEASED.filename


def test_missing_weights_name_the_file_the_places_and_the_command(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    encoder = build_encoder("inception", weights_path=str(tmp_path / "mine.pth"))
    with pytest.raises(MissingWeightsError) as error:
        encoder.prepare(setup(tmp_path))
    message = str(error.value)
    assert "pt_inception-2015-12-05-6726825d.pth not found" in message
    assert str(tmp_path / "mine.pth") in message
    assert str(tmp_path / "home" / "hub" / "checkpoints" / RELEASED.filename) in message
    assert "gan-prefetch weights=inception" in message and RELEASED.url in message


def test_encoder_options_are_checked_without_touching_files():
    with pytest.raises(ValueError, match="resize = 'area' is not allowed"):
        build_encoder("inception", resize="area")
    with pytest.raises(ValueError, match="logits = 'softmax' is not allowed"):
        build_encoder("inception", logits="softmax")
    with pytest.raises(ValueError, match="weights_sha256_prefix = 'XYZ'"):
        build_encoder("inception", weights_sha256_prefix="XYZ")
    with pytest.raises(ValueError, match="encoder = 'resnet' is not allowed"):
        build_encoder("resnet")
    with pytest.raises(TypeError, match="unknown options"):
        build_encoder("inception", colour=True)


def test_vgg16_fc7_gives_4096_features_and_1000_logits(tmp_path):
    encoder = build_encoder("vgg16_fc7")
    torch.manual_seed(0)
    encoder.network = encoder.build_network().eval()  # random weights: the shapes and the layer cut are under test
    encoded = encoder.encode(torch.rand(1, 1, 28, 28))
    assert encoded.features.shape == (1, 4096) and encoded.logits.shape == (1, 1000)
    assert (encoded.features >= 0).all()  # after relu7
    torch.testing.assert_close(encoded.logits, encoder.network.classifier[6](encoded.features))
