"""Fixtures for the analysis tests: synthetic sweeps written by :mod:`synthetic_runs`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # also under --import-mode=importlib
from synthetic_runs import SyntheticSweeps, ablation_specs, main_specs, write_run  # noqa: E402


@pytest.fixture(scope="session")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSweeps:
    root = tmp_path_factory.mktemp("sweeps")
    main, ablation = root / "main", root / "ablation"
    m, a = main_specs(), ablation_specs()
    for base, specs in ((main, m), (ablation, a)):
        for spec in specs:
            write_run(base / spec.job, spec)
    return SyntheticSweeps(root, main, ablation, m, a)
