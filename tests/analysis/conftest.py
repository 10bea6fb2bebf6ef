"""Fixtures for the analysis tests: synthetic sweeps written by :mod:`synthetic_runs`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from analysis import load

if TYPE_CHECKING:
    from synthetic_runs import SyntheticSweeps

sys.path.insert(0, str(Path(__file__).parent))  # the helpers import as modules, also under importlib mode


@pytest.fixture(scope="session")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSweeps:
    """A main-table sweep and an ablation sweep, written once per session."""
    from synthetic_runs import SyntheticSweeps, ablation_specs, main_specs, write_run

    root = tmp_path_factory.mktemp("sweeps")
    main, ablation = root / "main", root / "ablation"
    m, a = main_specs(), ablation_specs()
    for base, specs in ((main, m), (ablation, a)):
        for spec in specs:
            write_run(base / spec.job, spec)
    return SyntheticSweeps(root, main, ablation, m, a)


@pytest.fixture(scope="module")
def main_sweep(sweeps: SyntheticSweeps) -> load.Sweep:
    """The synthetic main-table sweep, loaded."""
    return load.load_sweeps(sweeps.main)


@pytest.fixture(scope="module")
def ablation_sweep(sweeps: SyntheticSweeps) -> load.Sweep:
    """The synthetic ablation sweep, loaded."""
    return load.load_sweeps(sweeps.ablation)
