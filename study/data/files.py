"""Writing derived files next to the data so that no reader ever sees half a file.

Several processes (a SLURM array) may build the same derived file at once: each writes its own temporary
file in the target folder and renames it into place; `os.replace` is atomic on POSIX, the last one wins,
and every version is complete.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Create `path` by calling `write` on a temporary file in the same folder, then renaming it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared data root must stay readable by all
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
