"""Fixtures for end-to-end training runs."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warm-start cache for the whole session: the first run makes it, the rest reuse it."""
    return tmp_path_factory.mktemp("cache")
