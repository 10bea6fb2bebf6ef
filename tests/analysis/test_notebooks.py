"""Both notebooks execute top to bottom with papermill, from a directory outside the repo.

On the synthetic sweeps here; on a real tiny sweep in test_real_runs.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from notebook_run import REPO, execute
from synthetic_runs import SyntheticSweeps

from analysis import load, render, tables


def test_python3_kernel_is_this_interpreter() -> None:
    """papermill starts ``python3`` from this venv: the spec's ``python`` becomes sys.executable."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in ("python", sys.executable)
    assert Path(spec.resource_dir).is_relative_to(Path(sys.prefix)) or spec.argv[0] == sys.executable


def test_paper_tables_notebook(sweeps: SyntheticSweeps, tmp_path: Path) -> None:
    dirs = [
        os.path.relpath(sweeps.main, REPO),
        os.path.relpath(sweeps.ablation, REPO),
    ]  # from the repo root
    shown = execute("paper_tables.ipynb", tmp_path, cwd=tmp_path, SWEEP_DIRS=dirs, K=4)
    assert f"20 runs, 15 finished, from {[str(sweeps.main), str(sweeps.ablation)]}" in shown.text
    assert "**pass@4 per benchmark and their average, per model.**" in shown.markdown
    assert "| Tiny Qwen3 (toy) | S-trace | 0.99 | — | 0.2 |" in shown.markdown
    assert "<sup>1</sup>" in shown.markdown
    assert "**Efficiency (target: training reward ≥ each run's start +" in shown.markdown
    assert "Qwen3-4B" in shown.html
    assert "arXiv:2605.05965" in shown.html
    assert shown.images == 4
    # the same numbers as `python -m analysis` (all_tables: what `make tables` writes), CIs included
    sweep = load.load_sweeps([sweeps.main, sweeps.ablation])
    written = render.to_markdown(tables.all_tables(sweep, k=4)[0]).splitlines()
    shown_lines = shown.markdown.splitlines()
    rows = [ln for ln in written if ln.startswith(("**pass@4", "| Tiny"))]
    assert len(rows) > 10
    assert all(ln in shown_lines for ln in rows)
    assert "Detectable effect: with " in rows[0]


def test_ablations_notebook(sweeps: SyntheticSweeps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYSIS_SWEEP_DIRS", str(sweeps.ablation))
    shown = execute("ablations.ipynb", tmp_path, cwd=tmp_path)
    assert (
        "axes: λ (method.lam), trace placement (method.placement), entropy quantile "
        "(method.entropy_quantile)" in shown.text
    )
    for title in (
        "Avg. pass@16 by λ",
        "Avg. pass@16 by trace placement",
        "Avg. pass@16 by entropy quantile",
        "Avg. pass@1 by λ",
    ):
        assert f"**{title}.**" in shown.markdown
    assert shown.images == 3


def test_a_sweep_without_axes_shows_none(sweeps: SyntheticSweeps, tmp_path: Path) -> None:
    shown = execute("ablations.ipynb", tmp_path, cwd=tmp_path, SWEEP_DIRS=[str(sweeps.main)])
    assert "axes: none" in shown.text
    assert "This sweep varies no config key beyond model and method." in shown.text
    assert shown.images == 0
