"""Fixtures of the metric tests (the inputs themselves are in fid_testkit.py)."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def metrics_cache(tmp_path_factory) -> Path:
    """One cache folder for the session, so the small encoder is trained once."""
    return tmp_path_factory.mktemp("metrics_cache")
