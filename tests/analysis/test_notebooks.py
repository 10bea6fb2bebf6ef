"""Both notebooks execute top to bottom (nbclient, kernel ``python3``) on a sweep's run dirs.

Parametrised over run-dir roots: ``synthetic`` uses the fixture sweeps; a variant
on run dirs from real tiny training runs can be added to ``RUN_DIR_ROOTS``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = ["paper_tables.ipynb", "ablations.ipynb"]
RUN_DIR_ROOTS: dict[str, Callable[[pytest.FixtureRequest], list[Path]]] = {
    "synthetic": lambda request: [request.getfixturevalue("sweeps").main,
                                  request.getfixturevalue("sweeps").ablation],
}


@pytest.fixture(params=sorted(RUN_DIR_ROOTS))
def sweep_dirs(request: pytest.FixtureRequest) -> list[Path]:
    return RUN_DIR_ROOTS[request.param](request)


def test_python3_kernel_is_this_interpreter() -> None:
    """nbclient starts ``python3`` from this venv: the spec's ``python`` becomes sys.executable."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in ("python", sys.executable)
    assert Path(spec.resource_dir).is_relative_to(Path(sys.prefix)) or spec.argv[0] == sys.executable


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name: str, sweep_dirs: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYSIS_SWEEP_DIRS", os.pathsep.join(map(str, sweep_dirs)))
    nb = nbformat.read(REPO / "analysis" / name, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert f"from {[str(d) for d in sweep_dirs]}" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "<sup>1</sup>" in markdown  # the footnoted gaps render
