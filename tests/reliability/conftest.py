"""Fixtures for the fault-injection suite: one warm-start cache and one uninterrupted reference run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.runs import finish


@pytest.fixture(scope="session")
def reliable_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reliable-cache")


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, reliable_cache: Path) -> Path:
    """The run every interrupted one must equal: same command, never killed."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    finish(run_dir, reliable_cache)
    return run_dir
