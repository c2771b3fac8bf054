"""A disk cache of named arrays that many workers can share and that detects its own corruption.

One entry = one `.npz` file named by a readable prefix and the hash of its full key. Inside: the arrays,
the key itself and a SHA-256 over key, names, dtypes, shapes and bytes. A read recomputes the hash and
compares the key; anything that does not match (a truncated copy, bit rot, a hash collision of names)
is reported as a miss, so the caller recomputes and rewrites. Writes are atomic (`gan_study.study.files`), so a
reader never sees half a file, and workers racing to fill the same entry each write a complete, equivalent file.
"""
from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_study.study.files import write_atomically

log = logging.getLogger("gan_study.metrics")

_KEY = "__key__"
_HASH = "__sha256__"


def key_digest(key: dict[str, Any]) -> str:
    """A stable hash of a JSON-able key."""
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def content_digest(key: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.asarray(arrays[name], order="C")
        digest.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def tensor_digest(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and values: the fingerprint of a data set's images."""
    array = np.asarray(tensor.detach().cpu().numpy(), order="C")
    digest = hashlib.sha256(f"{array.dtype.str}|{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


class ArrayCache:
    """Entries of named numpy arrays under `root`, keyed by JSON-able dicts. Counts hits, misses, corrupt reads."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.hits = self.misses = self.corrupt = 0

    def path(self, prefix: str, key: dict[str, Any]) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in prefix)
        return self.root / f"{safe}-{key_digest(key)[:16]}.npz"

    def load(self, prefix: str, key: dict[str, Any]) -> dict[str, np.ndarray] | None:
        """The arrays stored under `key`, or None when absent or not intact (logged)."""
        path = self.path(prefix, key)
        if not path.exists():
            self.misses += 1
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            stored_key = json.loads(str(arrays.pop(_KEY)))
            stored_hash = str(arrays.pop(_HASH))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as error:
            return self._corrupt(path, f"unreadable ({type(error).__name__}: {error})")
        if stored_key != json.loads(json.dumps(key)):
            return self._corrupt(path, "holds a different key")
        if content_digest(stored_key, arrays) != stored_hash:
            return self._corrupt(path, "content hash does not match")
        self.hits += 1
        return arrays

    def save(self, prefix: str, key: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
        """Write the entry atomically, readable by its owner only (as entries always were); returns its path."""
        path = self.path(prefix, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {name: np.asarray(array, order="C") for name, array in arrays.items()}
        payload[_KEY] = np.array(json.dumps(key, sort_keys=True))
        payload[_HASH] = np.array(content_digest(key, arrays))
        write_atomically(path, lambda handle: np.savez(handle, **payload), mode=0o600)
        return path

    def _corrupt(self, path: Path, why: str) -> None:
        self.corrupt += 1
        self.misses += 1
        log.warning("cache entry %s %s; recomputing it", path, why)
        return None
