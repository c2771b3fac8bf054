"""gan-prefetch: the real download code path on a file:// URL (no network), hash-prefix checks, arguments."""
from __future__ import annotations

import hashlib

import pytest

from gan_study.study.cli.prefetch import fetch_weights, main, parse
from gan_study.study.metrics.weights import WeightsFile


def local_release(tmp_path, payload: bytes = b"weights" * 1000, prefix: str | None = None) -> WeightsFile:
    """A 'released' file served from disk, named with its own SHA-256 prefix as torch hub expects."""
    prefix = prefix if prefix is not None else hashlib.sha256(payload).hexdigest()[:8]
    source = tmp_path / "server" / f"net-{prefix}.pth"
    source.parent.mkdir()
    source.write_bytes(payload)
    return WeightsFile("net", source.as_uri(), "a test network")


def test_fetch_downloads_checks_the_hash_prefix_and_then_reuses_the_file(tmp_path):
    release = local_release(tmp_path)
    target = tmp_path / "checkpoints"
    path = fetch_weights(release, target)
    assert path == target / release.filename and path.read_bytes() == b"weights" * 1000
    written = path.stat().st_mtime_ns
    assert fetch_weights(release, target) == path and path.stat().st_mtime_ns == written
    assert sorted(target.iterdir()) == [path]  # no partial or temporary file left behind


def test_a_download_with_the_wrong_hash_is_refused_and_not_installed(tmp_path):
    release = local_release(tmp_path, prefix="00000000")
    with pytest.raises(RuntimeError, match="invalid hash value"):
        fetch_weights(release, tmp_path / "checkpoints")
    assert not (tmp_path / "checkpoints" / release.filename).exists()


def test_a_corrupt_local_copy_is_reported(tmp_path):
    release = local_release(tmp_path)
    target = tmp_path / "checkpoints"
    target.mkdir()
    (target / release.filename).write_bytes(b"truncated")
    with pytest.raises(ValueError, match="does not start with the expected"):
        fetch_weights(release, target)


def test_arguments_are_key_value_lists(monkeypatch):
    monkeypatch.setenv("GAN_STUDY_DATA", "/data/here")
    options = parse(["weights=inception,vgg16", "dataset=mnist,cifar10"])
    assert options["weights"] == ["inception", "vgg16"] and options["dataset"] == ["mnist", "cifar10"]
    assert options["data_root"] == "/data/here"
    assert parse(["weights=none"])["weights"] == []
    assert parse([])["weights"] == ["inception"]


@pytest.mark.parametrize("argv, message", [
    (["weights=resnet"], "weights = ['resnet'] is not allowed"),
    (["model=x"], "argument 'model=x' is not allowed"),
    (["dataset=imagenet", "weights=none"], "dataset = ['imagenet'] is not allowed"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
