"""Installed versions of named packages, for metric cards and report provenance (imports no torch)."""
from __future__ import annotations

from importlib import metadata
from typing import Iterable


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """Package name -> its installed version, or "not installed"."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
