"""Pretrained weight files: where they are looked up, how they are checked, how they are fetched.

Compute nodes usually have no internet, so nothing here downloads: `locate_weights` looks in the
configured path and in torch hub's cache (`torch.hub.get_dir()/checkpoints/`, where pytorch-fid,
torch-fidelity and torchvision also keep them) and otherwise raises `MissingWeightsError` naming the
file, every place it looked and the command that fetches it (`gan-prefetch`, run on a login node).

Integrity follows torch hub's own convention: the hex digits after the last '-' of the file name
(`pt_inception-2015-12-05-6726825d.pth` → `6726825d`) are the first digits of the file's SHA-256.
We check that prefix; the full SHA-256 is not pinned because it could not be verified offline here.
The full digest of the file actually used is recorded in every metric card.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from typing import Callable

import torch


@dataclass(frozen=True)
class WeightsFile:
    """A released weight file known by name (`gan-prefetch weights=<key>`). `release_url` is the URL itself or a
    function returning it, so the library that publishes it (pytorch-fid, torchvision) is imported only when needed."""

    key: str
    release_url: str | Callable[[], str]
    description: str

    @property
    def url(self) -> str:
        return self.release_url if isinstance(self.release_url, str) else self.release_url()

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def hash_prefix(self) -> str:
        """The SHA-256 prefix in the file name (torch hub's HASH_REGEX convention)."""
        match = re.search(r"-([a-f0-9]*)\.", self.filename)
        return match.group(1) if match else ""


def _pytorch_fid_url() -> str:
    from pytorch_fid.inception import FID_WEIGHTS_URL

    return FID_WEIGHTS_URL


def _torchvision_vgg16_url() -> str:
    from torchvision.models import VGG16_Weights

    return VGG16_Weights.IMAGENET1K_V1.url


KNOWN_WEIGHTS: dict[str, WeightsFile] = {
    "inception": WeightsFile("inception", _pytorch_fid_url,
                             "FID Inception v3: PyTorch port of TF's inception-2015-12-05 graph (pytorch-fid)"),
    "vgg16": WeightsFile("vgg16", _torchvision_vgg16_url, "torchvision VGG-16 ImageNet weights (IMAGENET1K_V1)"),
}


class MissingWeightsError(FileNotFoundError):
    """A weight file is not on this machine; the message says where it was looked for and how to fetch it."""


def hub_checkpoints_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def candidate_paths(weights: WeightsFile, configured: str | Path | None = None) -> list[Path]:
    """Where `weights` is looked for, in order: the configured file (or folder), then torch hub's cache."""
    paths: list[Path] = []
    if configured:
        configured = Path(os.path.expanduser(str(configured)))
        paths.append(configured / weights.filename if configured.is_dir() else configured)
    paths.append(hub_checkpoints_dir() / weights.filename)
    return paths


def locate_weights(weights: WeightsFile, configured: str | Path | None = None) -> Path:
    """The first existing candidate path, or `MissingWeightsError`."""
    paths = candidate_paths(weights, configured)
    for path in paths:
        if path.is_file():
            return path
    looked = "\n".join(f"  - {path}" for path in paths)
    raise MissingWeightsError(
        f"{weights.description}: weight file {weights.filename} not found. Looked in:\n{looked}\n"
        f"Fetch it on a machine with internet (it goes to {hub_checkpoints_dir()}):\n"
        f"  gan-prefetch weights={weights.key}\n"
        f"or download {weights.url} yourself and set the encoder option weights_path to the file.")


_SHA256_MEMO: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) for the life of the process."""
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _SHA256_MEMO:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        _SHA256_MEMO[memo_key] = digest.hexdigest()
    return _SHA256_MEMO[memo_key]


def verified_sha256(path: Path, expected_prefix: str) -> str:
    """The file's SHA-256, after checking that it starts with `expected_prefix` (empty: no check)."""
    digest = sha256_of(path)
    if not digest.startswith(expected_prefix):
        raise ValueError(f"{path}: SHA-256 {digest} does not start with the expected {expected_prefix!r}; "
                         "the file is corrupt or not the released weights (delete it and run gan-prefetch again)")
    return digest


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A released .pth state_dict, read without executing pickled code."""
    return torch.load(path, map_location="cpu", weights_only=True)
