"""Analysis on run dirs from real tiny training runs (the session's `method_runs`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from analysis.load import load_sweeps
from analysis.tables import main_table
from harness.eval import pass_at_k

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real tiny training runs through the CLI


@pytest.fixture(scope="module")
def sweep_root(method_runs: dict[str, Path]) -> Path:
    return next(iter(method_runs.values())).parent


def test_loader_reads_every_real_run(sweep_root: Path, method_runs: dict[str, Path]) -> None:
    sweep = load_sweeps([sweep_root])
    assert sorted(sweep.runs["method"]) == sorted(method_runs)
    assert set(sweep.runs["status"]) == {"finished"}
    assert set(sweep.steps["step"]) == {1, 2}


def test_main_table_matches_records(sweep_root: Path, method_runs: dict[str, Path]) -> None:
    """pass@1 in the main table is the mean over problems of the unbiased estimator at the last step."""
    table = main_table(load_sweeps([sweep_root]), k=1)
    for method, run_dir in method_runs.items():
        records = pd.read_parquet(run_dir / "eval" / "step-2" / "records.parquet")
        expected = pass_at_k(records["n"], records["c"], 1).mean()
        cell = table.mean.xs(method, level="method").iloc[0]
        assert cell["arith_test"] == pytest.approx(expected)


@pytest.mark.parametrize("name", ["paper_tables.ipynb", "ablations.ipynb"])
def test_notebooks_execute_on_real_runs(name: str, sweep_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYSIS_SWEEP_DIRS", str(sweep_root))
    nb = nbformat.read(REPO / "analysis" / name, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]


def test_tables_cli_writes_an_index(sweep_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    subprocess.run([sys.executable, "-m", "analysis.tables", str(sweep_root), "--out", str(out)],
                   cwd=REPO, check=True, capture_output=True, env={**os.environ, "MPLBACKEND": "Agg"})
    index = (out / "index.md").read_text()
    assert "main" in index.lower() and (out / "tables").is_dir()
