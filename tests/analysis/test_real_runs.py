"""Analysis of a real tiny sweep: run dirs of real tiny training runs (`method_runs`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from notebook_run import REPO, execute

from analysis.load import load_sweeps
from analysis.tables import main_table
from harness.eval import pass_at_k

pytestmark = pytest.mark.slow  # real tiny training runs through the CLI


@pytest.fixture(scope="module")
def sweep_root(method_runs: dict[str, Path]) -> Path:
    return next(iter(method_runs.values())).parent


def test_loader_reads_every_real_run(sweep_root: Path, method_runs: dict[str, Path]) -> None:
    sweep = load_sweeps([sweep_root])
    assert sorted(sweep.runs["method.name"]) == sorted(method_runs)
    assert set(sweep.runs["status"]) == {"finished"}
    assert sweep.warnings == []
    assert set(sweep.steps["step"]) == {1, 2}
    assert {"method.clip_high", "trainer.lr", "eval.k", "benchmark.arith_test.n_problems"} <= set(
        sweep.config_keys
    )


def test_main_table_matches_records(sweep_root: Path, method_runs: dict[str, Path]) -> None:
    """pass@1 in the main table: the mean over problems of the unbiased estimator, last step."""
    table = main_table(load_sweeps([sweep_root]), k=1)
    assert table.mean.index.names == [
        "model.name",
        "method.name",
    ]  # one run per method: nothing else varies
    for method, run_dir in method_runs.items():
        records = pd.read_parquet(run_dir / "eval" / "step-2" / "records.parquet")
        expected = pass_at_k(records["n"], records["c"], 1).mean()
        assert table.mean.at[("tiny", method), "arith_test"] == pytest.approx(expected)


@pytest.mark.parametrize("name", ["paper_tables.ipynb", "ablations.ipynb"])
def test_notebooks_run_from_anywhere_on_the_real_sweep(
    name: str, sweep_root: Path, method_runs: dict[str, Path], tmp_path: Path
) -> None:
    relative = os.path.relpath(sweep_root, REPO)  # as the README says: relative to the repository root
    shown = execute(name, tmp_path, cwd=tmp_path, SWEEP_DIRS=[relative], K=2)
    n = len(method_runs)  # one run per registered method
    assert f"{n} runs, {n} finished, from {[str(sweep_root)]}" in shown.text
    if name == "paper_tables.ipynb":
        # one benchmark: no "Avg." column repeating it
        assert "| model | method | Arithmetic (test) | Δ avg vs GRPO | P(> GRPO) |" in shown.markdown
        assert "| Tiny Qwen3 (toy) | GRPO-λ |" in shown.markdown
        assert shown.images == 4
    else:
        assert "axes: none" in shown.text  # one run per method: no ablation to show


def test_cli_writes_an_index(sweep_root: Path, method_runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "tables"
    subprocess.run(
        [sys.executable, "-m", "analysis", str(sweep_root), "--out", str(out), "--k", "2"],
        cwd=REPO,
        check=True,
        capture_output=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    index = (out / "index.md").read_text()
    assert f"{len(method_runs)} runs: {len(method_runs)} finished." in index
    main = (out / "tables" / "main.md").read_text()
    assert "| Tiny Qwen3 (toy) | S-trace |" in main
    assert "—" not in main.split("\n\n")[1]
