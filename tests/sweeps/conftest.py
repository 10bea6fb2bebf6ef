"""Fixtures for sweep tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sweep_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warm-start cache for the session's sweep runs: the first run makes it, the rest reuse it."""
    return tmp_path_factory.mktemp("sweep-cache")
