"""Writing files so that no reader ever sees half of one and a crash never leaves a torn one.

Every result, record, checkpoint, cache entry and downloaded file is written the same way: into a temporary
file of its own in the target folder, flushed to disk (fsync), then renamed into place. `os.replace` is atomic
on POSIX: several processes (a SLURM array) writing the same file at once each write their own temporary file,
the last one wins and every version is complete; a crash leaves the old file (or none), never a torn one.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

READABLE_BY_ALL = 0o644
"""The mode of files under a shared data root, whatever the umask of the process that wrote them."""


@contextmanager
def replaced_atomically(path: Path, *, mode: int | None = None, previous: Path | None = None) -> Iterator[Path]:
    """A fresh temporary path beside `path` for the block to create; then it is fsynced and renamed to `path`.

    `mode`: the file's permissions (default: those it was created with, as `open` does: 0o666 less the umask).
    `previous`: where the current `path`, if any, goes just before the rename (a checkpoint's fallback).
    If the block raises, the temporary file is removed and `path` is left as it was.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield tmp
        descriptor = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if mode is not None:
            os.chmod(tmp, mode)
        if previous is not None and path.exists():
            os.replace(path, previous)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, write: Callable[[BinaryIO], None], *, mode: int | None = None,
                     previous: Path | None = None) -> None:
    """Create `path` by calling `write` on a binary handle to a temporary file (see `replaced_atomically`)."""
    with replaced_atomically(path, mode=mode, previous=previous) as tmp, open(tmp, "xb") as handle:
        write(handle)


def write_text_atomically(path: Path, text: str, *, errors: str = "strict") -> None:
    """Create `path` holding `text` in UTF-8 (see `replaced_atomically`); `errors` as in `str.encode`."""
    write_atomically(path, lambda handle: handle.write(text.encode(errors=errors)))
