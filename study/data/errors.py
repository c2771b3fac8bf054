"""The error a loader raises when a data set's files are not on disk.

It subclasses FileNotFoundError so generic handlers still see a missing file, and its message is the
whole recipe: which files, in which folder, and the two ways to get them.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class DatasetNotFoundError(FileNotFoundError):
    """The files of data set `name` are missing from `folder`."""

    def __init__(self, name: str, folder: Path, expected: Sequence[str], missing: Sequence[str],
                 note: str = "") -> None:
        self.name = name
        self.folder = Path(folder)
        self.expected = list(expected)
        self.missing = list(missing)
        shown = ", ".join(self.missing[:5]) + (f" and {len(self.missing) - 5} more" if len(self.missing) > 5 else "")
        lines = [
            f"data set {name!r} not found: missing {shown} in folder {self.folder}",
            f"expected files in {self.folder}: {', '.join(self.expected)}",
        ]
        if note:
            lines.append(note)
        lines.append(
            f"get them with `gan-prefetch datasets=[{name}]` on a machine with internet access (then copy "
            f"{self.folder} here under the same data root), or run with dataset.download=true to let "
            f"torchvision download them on this machine"
        )
        super().__init__("\n".join(lines))

    @property
    def one_line(self) -> str:
        """The message in one line (a trial's FAIL reason, the sweep driver's warning): data set, folder, command."""
        return (f"data set {self.name!r} not found in {self.folder}: get it with `gan-prefetch datasets=[{self.name}]` "
                f"on a machine with internet access, or run with dataset.download=true")


def require_files(name: str, folder: Path, expected: Sequence[str], note: str = "", packed: str = "") -> None:
    """Raise DatasetNotFoundError unless every file in `expected` exists in `folder` (or as `<file><packed>`)."""
    missing = [file for file in expected
               if not (folder / file).exists() and not (packed and (folder / f"{file}{packed}").exists())]
    if missing:
        raise DatasetNotFoundError(name, folder, expected, missing, note)
